VALUE = "epsilon"
