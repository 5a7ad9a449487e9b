project = "shop"
extensions = ["penstock_sphinx"]
penstock_modules = ["shop.orders", "shop.billing"]
penstock_paths = ["."]
numfig = True
