//! A real HTTP proxy for the tests: Debian's `tinyproxy`, started on 127.0.0.1 with a config
//! written by the test, named by a host name (`localhost`) as a company's `proxy.corp` is.
//! The tests that need it are `#[ignore]`d with that reason; `.ci/run` installs it and runs them
//! (`--include-ignored`), and there a missing proxy fails the test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What the proxy allows.
#[derive(Default, Clone)]
pub struct ProxyOptions {
    /// Ask for this user and password (HTTP 407 without them).
    pub basic_auth: Option<(String, String)>,
    /// Only these ports may be reached by `CONNECT` (tinyproxy's own rule); all when empty.
    pub connect_ports: Vec<u16>,
}

/// A running tinyproxy; stopped when dropped.
pub struct Tinyproxy {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

fn find() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join("tinyproxy"))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Tinyproxy {
    /// Fails the test when tinyproxy is not installed: the tests that need it are `#[ignore]`d
    /// with that reason, so `cargo test` lists them as ignored instead of passing them unrun.
    pub fn start(options: ProxyOptions) -> Tinyproxy {
        let bin = find().expect(
            "tinyproxy is not on PATH: install it (Debian: apt install tinyproxy) to run the proxy tests",
        );
        let dir = tempfile::tempdir().expect("a temporary folder");
        let port = free_port();
        let log = dir.path().join("tinyproxy.log");
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 600\nLogFile \"{}\"\nLogLevel Info\nMaxClients 64\n",
            log.display()
        );
        if let Some((user, password)) = &options.basic_auth {
            conf.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        for p in &options.connect_ports {
            conf.push_str(&format!("ConnectPort {p}\n"));
        }
        let conf_path = dir.path().join("tinyproxy.conf");
        std::fs::write(&conf_path, conf).expect("the config is written");
        let child = Command::new(bin)
            .arg("-d")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyproxy starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tinyproxy did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Tinyproxy {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    /// `http://localhost:PORT`: a host name that resolves to a loopback address.
    pub fn url(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// The same with a user and password in it.
    pub fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@localhost:{}", self.port)
    }

    /// The requests it carried, as it logged them (`GET http://… HTTP/1.1`, `CONNECT host:port …`).
    pub fn requests(&self) -> Vec<String> {
        read_requests(&self.log)
    }
}

fn read_requests(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            l.split_once("): ")
                .map(|(_, r)| r)
                .filter(|_| l.contains("Request (file descriptor"))
        })
        .map(str::to_string)
        .collect()
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
