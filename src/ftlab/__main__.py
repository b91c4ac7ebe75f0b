"""``python -m ftlab`` runs the command-line interface."""

from ftlab.cli import main

if __name__ == "__main__":
    main()
