"""A stand-in AIGES wrapper: the service entry point of the example image."""
import sys

import envd_test_alpha
import envd_test_delta


def wrapper_init(config):
    return 0


if __name__ == "__main__":
    if "--check" in sys.argv:
        print("wrapper check ok")
    else:
        print("wrapper ready:", envd_test_alpha.VALUE, envd_test_delta.VALUE)
