from murmur.client.cli.main import main

main()
