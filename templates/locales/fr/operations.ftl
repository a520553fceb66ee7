# Operations and hardening: what the server refuses to protect its accounts.
error-common-password = Ce mot de passe fait partie des plus courants, les premiers essayés par un attaquant : choisissez-en un autre.
