"""`pecrs` and `python -m pipeline`: the command line, loaded as long-lived (see pipeline.cli.long_lived)."""

from pipeline.cli.long_lived import for_this_process, long_lived_imports


def main() -> None:
    for_this_process()
    with long_lived_imports():
        from pipeline.cli.app import main as command_line
    command_line()


if __name__ == "__main__":
    main()
