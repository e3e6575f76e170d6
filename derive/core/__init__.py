"""The mathematics: specs, activation and loss registries, exact numbers, the symbolic graph, the backward sweep, the chain rule and its verification."""
