first = {"made": "on the program's first line"}


def outer():
    return middle()


def middle():
    return inner()


def inner():
    return {"made": "three calls deep"}  # line 13


deep = outer()
