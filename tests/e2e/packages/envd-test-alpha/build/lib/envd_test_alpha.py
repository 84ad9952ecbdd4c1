VALUE = "alpha"
