from woorizip.cli import main

main()
