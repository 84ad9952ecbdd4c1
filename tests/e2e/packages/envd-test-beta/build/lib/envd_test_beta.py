VALUE = "beta"
