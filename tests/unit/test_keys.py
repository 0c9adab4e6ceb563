def test_content_disposition_names_any_file_safely() -> None:
    from assets_core.keys import content_disposition

    assert content_disposition("model.bin") == 'attachment; filename="model.bin"'
    assert content_disposition('a "b"\\c\r\n.txt') == (
        "attachment; filename=\"a _b__c__.txt\"; filename*=UTF-8''a%20%22b%22%5Cc%0D%0A.txt"
    )
    assert content_disposition("weights 1.bin") == (
        "attachment; filename=\"weights 1.bin\"; filename*=UTF-8''weights%201.bin"
    )
