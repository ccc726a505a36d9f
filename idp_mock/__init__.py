"""An OpenID provider standing in for Gosuslugi/ESIA and mos.ru."""
