from assets_client.cli import main

main()
