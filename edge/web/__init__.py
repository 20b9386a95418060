"""HTTP: Bottle apps per API family on one waitress server. Routes parse and format only."""
