"""The demo tenant, user and stack that `make run` seeds (plain constants: the launcher
prints them before Django is set up in its own process)."""

DEMO_TENANT = "demo"
DEMO_USER = "demo"
DEMO_PASSWORD = "panka-demo"
DEMO_STACK = "shop"
