VALUE = "gamma"
