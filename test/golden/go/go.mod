module cairn.test/golden

go 1.19
