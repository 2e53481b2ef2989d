"""Entry script of the frozen build: the installed `respine` command (`ui.launcher.main`)."""

from ui.launcher import main

if __name__ == "__main__":
    main()
