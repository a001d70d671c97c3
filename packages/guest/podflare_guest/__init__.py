"""Podflare guest kernel: persistent Python REPL, bash runner and file helper inside a sandbox."""
