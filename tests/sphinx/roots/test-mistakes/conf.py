project = "flawed"
extensions = ["penstock_sphinx"]
penstock_modules = ["flawed.orders", "flawed.looping", "flawed.huge"]
penstock_paths = ["."]
