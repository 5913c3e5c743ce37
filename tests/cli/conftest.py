from tests.cli.fakehome import fake_home

__all__ = ["fake_home"]
