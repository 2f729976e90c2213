"""Who may do what: roles and permissions, console users, sign-in lockout."""
