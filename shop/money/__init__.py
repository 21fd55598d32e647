"""Money: revenue by day, method and plan, refunds, referral rewards and withdrawals over a period
(`report`), and the CSV exports of customers, payments and the ledger, streamed row by row from a
server-side cursor so their memory stays flat at any size (`exports`).

May use the shared modules and `shop.customers` (the referral ledgers and the paid statuses). Never
`api`, `bot`, `console`, `worker`, `sandbox` or the runtime. Withdrawal decisions stay in
`shop.customers.referrals`, the one service the bot and the console both call.
"""
