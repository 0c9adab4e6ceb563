from assets_client.entry import main

main()
