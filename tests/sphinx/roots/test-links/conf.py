project = "linked"
extensions = ["penstock_sphinx"]
penstock_modules = ["linked.flows"]
penstock_paths = ["."]
