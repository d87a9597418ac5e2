"""Email reminders to members who have not voted: sign-in with Ethereum, private subscriptions, and sending each
reminder once across API processes (as api/hooks/ delivers webhooks).

- tables.py     subscriptions, sign-in nonces and the record of reminders (cache database; never derived, never public)
- tokens.py     the HMAC secret; sign-in sessions, unsubscribe and confirmation tokens made from it
- signin.py     nonces issued and spent once; an EIP-4361 message checked for this page, chain and a member
- subscriptions.py  reading, saving, confirming and deleting one member's subscription (and former members'); counts
- confirmation.py   double opt-in: the confirmation email and its link, mailed at most once per 10 minutes per member
- due.py        which reminders are due at the indexed block (not voted yet), recorded once per member, proposal, kind
- mail.py       the SMTP settings, and a reminder as an email (headers safe from any title, one-click unsubscribe)
- delivery.py   claiming due reminders (once across processes), checking the ballot again, sending; the worker thread
"""
