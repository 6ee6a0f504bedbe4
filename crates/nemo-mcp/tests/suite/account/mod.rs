//! Money: budgets across processes and the user's confirmation (elicitation and `confirm: true`).

mod budgets;
mod confirm;
mod two_accounts;
mod two_apis;
