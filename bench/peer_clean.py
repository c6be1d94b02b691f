# The Python peer for bench/compare.mjs: csv + phonenumbers (Debian's
# python3-phonenumbers), the same work as bench/naive-clean.mjs.
# usage: python3 bench/peer_clean.py INPUT OUT_DIR COUNTRY
import csv, os, sys
import phonenumbers

source, out_dir, country = sys.argv[1:4]
os.makedirs(out_dir, exist_ok=True)
seen = set()
with open(source, newline='', encoding='utf-8') as f, \
     open(os.path.join(out_dir, 'cleaned.csv'), 'w', newline='', encoding='utf-8') as c, \
     open(os.path.join(out_dir, 'purged.csv'), 'w', newline='', encoding='utf-8') as p:
    reader = csv.DictReader(f)
    cleaned = csv.DictWriter(c, fieldnames=reader.fieldnames + ['phone_e164'])
    purged = csv.DictWriter(p, fieldnames=reader.fieldnames + ['purge_reason'])
    cleaned.writeheader()
    purged.writeheader()
    for row in reader:
        try:
            number = phonenumbers.parse(row['phone'] or '', country)
            valid = phonenumbers.is_valid_number(number)
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            purged.writerow({**row, 'purge_reason': 'invalid_number'})
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if e164 in seen:
            purged.writerow({**row, 'purge_reason': 'duplicate'})
        else:
            seen.add(e164)
            cleaned.writerow({**row, 'phone_e164': e164})
