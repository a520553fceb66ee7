# Operations and hardening: what the server refuses to protect its accounts.
error-common-password = This password is among the most common ones, the first an attacker tries: choose another.
