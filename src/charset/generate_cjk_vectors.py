import random, sys
random.seed(19)
codecs_ = ["shift_jis","cp932","euc_jp","iso2022_jp","gb2312","gbk","gb18030","big5","big5hkscs","cp950","euc_kr","cp949"]
samples = {"shift_jis":"日本語のテキスト、カタカナ ｱｲｳ 〜‖−¢£¬＼","euc_jp":"日本語のテキスト 〜‖−¢£¬ ｱ","iso2022_jp":"日本語のテキスト 〜‖−¢£¬","gbk":"中文文本，简体","gb2312":"中文文本","gb18030":"中文文本 \U00020000","big5":"中文文本，繁體","big5hkscs":"繁體","cp950":"繁體","euc_kr":"한국어 텍스트","cp949":"한국어 텍스트똠","cp932":"日本語①②"}
out = open("/tmp/cjk_vectors.txt","w")
for c in codecs_:
    # valid text, and random bytes (mostly invalid / unusual sequences)
    for i in range(300):
        if i < 100:
            t = samples[c]
            b = t.encode(c)
            k = random.randint(0, len(b))
            b = b[:k] + b[k:]  # whole text
        elif i < 200:
            b = bytes(random.choice(range(0x81, 0xff)) if random.random() < 0.7 else random.randint(0x20,0x7e) for _ in range(24))
        else:
            b = bytes(random.randint(0,255) for _ in range(24))
        e = b.decode(c, "replace")
        out.write(f"{c}\t{b.hex()}\t{e.encode('utf-8','surrogatepass').hex()}\n")
