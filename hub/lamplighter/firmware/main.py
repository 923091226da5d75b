"""Board entry point: MicroPython runs main.py after boot.py."""

from firmware import app

if __name__ == "__main__":
    app.main()
