"""Build the name lexicon used by ``humanfactors.redact`` (run once; output is committed).

Sources (installed from the package registry):

* Faker (https://github.com/joke2k/faker, MIT): first and last names of every person
  locale, Latin script only.
* ``COMMUNITY_FIRST_NAMES`` below: common given names of communities in England and
  Wales that those locales lack (Kurdish, Arabic, South Asian, Somali, Eritrean, West
  African, Welsh, Cornish …), written for this project.
* Babel (https://github.com/python-babel/babel, BSD): English names of languages and
  territories, which are capitalised but are not people.
* TextBlob (https://github.com/sloria/TextBlob): the Brill tagger lexicon (Penn
  Treebank and Brown corpus) for the English vocabulary and known proper nouns, and its
  spelling frequency list (Project Gutenberg, Wiktionary, British National Corpus) for
  how often a word is used as an ordinary word.

Usage::

    python tools/build_redact_lexicon.py   # writes src/humanfactors/redact/data/lexicon.json.gz
"""

from __future__ import annotations

import gzip
import importlib
import json
import pkgutil
import re
from pathlib import Path

import babel
import faker
import faker.providers.person as person_providers
import textblob

OUT = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "humanfactors"
    / "redact"
    / "data"
    / "lexicon.json.gz"
)
LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ž]+(?:['’\-][A-Za-zÀ-ÖØ-öø-ž]+)*$")
FREQUENT = 50  # a word seen this often in the frequency list is an ordinary word first

# Common given names of communities in England and Wales that Faker's Latin-script
# locales lack, or spell only in another script (its Arabic, Persian, Hindi and Bengali
# locales): Kurdish, Arabic, South Asian, African, East Asian, Welsh, Cornish and other
# names. A compact hand-written list; names that are also ordinary English words
# (Gift, Favour, Long) are left out.
COMMUNITY_FIRST_NAMES: dict[str, str] = {
    "Kurdish": """
        Hevin Rojin Rojda Berivan Dilan Dilvin Avin Shilan Zhilan Nareen Narin Helin Jiyan
        Berfin Delal Hana Shirin Ronak Roj Soran Karwan Rebin Rawand Hawre Hemin Diyar Dilshad
        Azad Kawa Baran Rezan Aram Alan Botan Serhat Zana Darya Lana Viyan Evin Nasrin Kajal
        Bahar Sevda Gulistan Hozan Sherwan Goran Zryan Shvan Nechirvan""",
    "Arabic": """
        Sana Sanaa Noor Nour Huda Hoda Rana Reem Rim Dina Dana Lina Leena Lama Lubna Rania Rasha
        Hiba Heba Samar Samira Salma Suha Yasmin Yasmeen Jana Joud Malak Mariam Maryam Fatima
        Aisha Amira Amal Asma Alaa Aya Ayah Duaa Eman Iman Ghada Hala Hanan Israa Layla Leila
        Maha Manal Nada Nadia Najwa Nawal Nisreen Rawan Ruqayya Safa Sahar Shaima Tasneem Wafa
        Widad Zainab Zaynab Zahra Ahmed Ahmad Mohammed Muhammad Mohamed Mahmoud Omar Umar Ali
        Hassan Hussein Hussain Ibrahim Ismail Yusuf Yousef Youssef Khalid Khaled Karim Kareem
        Tariq Tarek Rami Samir Walid Waleed Bilal Hamza Anas Ayman Bashir Fadi Fahad Faisal Hadi
        Hani Hisham Jamal Majid Marwan Mazen Mustafa Nabil Nasser Osama Qasim Rashid Saad Said
        Saleh Salim Yahya Zaid Zayd""",
    "Persian and Afghan": """
        Parisa Shirin Nasrin Maryam Mahsa Mina Nazanin Niloufar Roya Sara Setareh Shabnam Soraya
        Tahmina Zahra Farzana Fereshteh Laleh Homa Azadeh Ahmad Farid Hamid Jawad Mahmood Masoud
        Mehdi Mohsen Navid Omid Reza Saeed Shahid Wahid Zabiullah Habib Hamed Arash Babak
        Dariush Kian Parviz Ramin Zarmina Zarghona Wazhma Gulalai Malalai Mursal Nargis Freshta
        Mahbooba""",
    "Pakistani and Urdu": """
        Sana Saba Hira Iqra Ayesha Aisha Amna Anum Areeba Asma Bushra Fozia Fouzia Ghazala Hina
        Humaira Irum Kiran Madiha Mahnoor Maira Maria Mehwish Misbah Nadia Naila Nazia Noreen
        Rabia Rubina Sadia Saima Samina Shabana Shazia Sidra Sobia Sumaira Tahira Tanzeela Uzma
        Zara Zoya Zubaida Aqsa Alishba Eman Laiba Abdul Adeel Adnan Amir Aamir Arslan Asad Asif
        Atif Bilal Ehsan Faisal Farhan Fahad Haris Hamza Haroon Imran Irfan Junaid Kamran Kashif
        Khurram Mohsin Nadeem Naveed Nasir Qasim Rizwan Sajid Salman Shahzad Shoaib Sohail Tahir
        Tariq Usman Waqas Waseem Yasir Zahid Zeeshan Zubair Ayaan Rayyan Zayan Eesa Ibrahim Musa""",
    "Bangladeshi and Bengali": """
        Nusrat Taslima Tahmina Shirin Shamima Rokeya Ruksana Rehana Rumana Jesmin Jasmin Sumaiya
        Sumaya Tania Farhana Fahmida Nazma Nasima Salma Shahana Shapla Sharmin Sultana Afia
        Anika Fariha Ishrat Maliha Mithila Nabila Raisa Rima Sadia Suhana Tanjila Tasnim Rahim
        Rahman Karim Kamal Jamal Abul Aminul Anwar Habibur Mizanur Monir Nazrul Rafiq Rubel
        Sabbir Shafiq Shahin Sohel Sumon Tanvir Mahfuz Masud Mamun Arif Rajib Rakib Riad Shakil
        Tamim Foysal Minhaz Sayem""",
    "Indian, Punjabi and Gujarati": """
        Priya Pooja Puja Anjali Anita Sunita Sunil Kavita Neha Nisha Rekha Rina Reena Sangeeta
        Seema Shreya Simran Sonia Tanvi Aarti Deepa Divya Geeta Gita Hema Jaspreet Harpreet
        Gurpreet Manpreet Navdeep Kulwinder Rajinder Parminder Balbir Baljit Harjit Jasbir
        Amarjit Sukhdeep Sukhjinder Amrit Harleen Jasleen Simranjit Mandeep Raj Rajesh Ravi
        Rahul Rohan Rohit Sanjay Sandeep Sanjeev Suresh Ramesh Mahesh Dinesh Mukesh Naresh Vijay
        Vikram Vivek Amit Anil Ashok Arjun Aryan Dev Deepak Gaurav Hardeep Harjinder Jagdeep
        Kiran Krishna Manish Manoj Nikhil Nitin Pankaj Prakash Pradeep Rakesh Sachin Sunny Varun
        Vinod Yash Hetal Heena Jignesh Kinjal Nilesh Paresh Pritesh Bhavna Dipti Falguni Komal
        Mitesh Nayan Chirag Dhruv Ishaan Kabir Vihaan Aarav Anaya Diya Ishani Kavya Meera Saanvi
        Tara Lakshmi Meena Kamala Selvi Priyanka Karthik Ganesh""",
    "Somali": """
        Hodan Ayan Fadumo Faadumo Hibaaq Hawa Idil Ilhan Khadra Muna Nimco Ubah Sagal Sahra
        Saynab Deeqa Farhiya Filsan Hamdi Hani Istahil Kaltun Layla Maryan Naima Nasra Ruqiya
        Sahro Sumaya Warsan Yasmin Ayaan Abdi Abdirahman Abdullahi Abdirizak Abdiwali Ahmed
        Bashir Cabdi Faarax Farah Guled Hassan Jama Liban Mahad Mohamud Mukhtar Omar Osman Said
        Warsame Yusuf Zakariye Mustafe Hamse Ilyas Khalif""",
    "Eritrean and Ethiopian": """
        Selam Saba Senait Semhar Helen Hiwet Luwam Meron Merhawit Mebrat Tsega Yordanos Yodit
        Rahel Ruth Sara Feven Lidya Tigist Almaz Aster Hirut Genet Eden Abel Dawit Daniel Filmon
        Henok Kidane Mehari Robel Samuel Tesfay Tesfaye Yonas Yohannes Biniam Bereket Habtom
        Kibrom Mussie Natnael Tedros Yared Amanuel Efrem Fitsum""",
    "West African": """
        Adaeze Adaora Amarachi Chiamaka Chidinma Chioma Chinonso Ifeoma Ngozi Nneka Obiageli
        Uchenna Chinedu Chukwuemeka Emeka Ikenna Obinna Tochukwu Chibuike Kelechi Nnamdi
        Oluwaseun Seun Olamide Oluwatobi Tobi Tolu Temitope Tope Bukola Funmilayo Funmi Folake
        Yetunde Abimbola Adebayo Ayodele Babajide Damilola Femi Kehinde Taiwo Tunde Olumide
        Segun Dayo Yewande Abiola Ifeoluwa Precious Blessing Princess Kwame Kwabena Kofi Kojo
        Kwaku Yaw Kwesi Akosua Abena Adwoa Afua Akua Ama Efua Esi Yaa Ekow Fatou Aminata Mariama
        Awa Binta Ousmane Mamadou Moussa Ibrahima Amadou Musa Aliyu Usman Abubakar Halima Hauwa
        Zainab Aisha Amina""",
    "Caribbean": """
        Shanice Shaniqua Tanisha Keisha Latoya Shantelle Chantelle Jermaine Jerome Dwayne Delroy
        Winston Leroy Marcia Beverley Sharmaine Shemar Tyrese Tyrone Kemar Rashad Jahmal Kaliyah
        Kiana Nia Zion Malachi Makai Tiana Shakira Jaheim""",
    "Turkish": """
        Ayse Ayşe Elif Emine Fatma Hatice Zeynep Meryem Merve Esra Büşra Ebru Derya Gamze Gizem
        Seda Songul Sibel Tugba Yasemin Dilara Ecem Melek Ahmet Mehmet Mustafa Hüseyin Huseyin
        Murat Emre Burak Kemal Serkan Volkan Oguz Ozan Tolga Kaan Cem Yusuf Eren Efe Arda Baris
        Berk""",
    "Chinese and Vietnamese": """
        Wei Xin Xiu Ying Mei Lan Ling Jing Yan Hui Jie Hao Lei Tao Ming Qiang Yong Zhen Zhi Xiao
        Chen Hua Wing Kit Siu Lok Chi Yee Hoi Wai Mai Linh Thao Trang Huong Ngoc Anh Hoa Hanh
        Phuong Minh Tuan Duc Hieu Quang Thanh Thuy Khanh""",
    "Polish, Romanian and Baltic": """
        Agnieszka Katarzyna Malgorzata Małgorzata Joanna Zofia Zuzanna Julia Maja Oliwia
        Wiktoria Natalia Kinga Magdalena Ewelina Dorota Beata Krzysztof Tomasz Piotr Pawel Paweł
        Marcin Michal Michał Lukasz Łukasz Jakub Kacper Szymon Mateusz Wojciech Bartosz Dawid
        Grzegorz Andreea Ioana Alexandra Bianca Elena Mihaela Roxana Raluca Cristina Gabriela
        Larisa Florin Ionut Ionuț Andrei Mihai Vlad Bogdan Cosmin Razvan Răzvan Adrian Gheorghe
        Marius Stefan Ștefan Vasile Lukas Jonas Tomas Mantas Darius Agne Ieva Greta Egle
        Kristina Laura Marija Janis Anna Liga""",
    "Albanian": """
        Arta Besa Blerta Donjeta Elira Fjolla Jehona Lindita Mimoza Teuta Valbona Vjosa Arben
        Ardit Besnik Blerim Driton Endrit Fatos Gent Ilir Kujtim Luan Petrit Valon Flamur Erion
        Klodian Ermal Altin""",
    "Welsh, Cornish, Scottish and Irish": """
        Tamsin Tamzin Demelza Morwenna Jago Kerensa Lowenna Cadan Elowen Nessa Bryony Rhian
        Rhiannon Sian Siân Eleri Ffion Carys Cerys Catrin Nia Lowri Manon Megan Nerys Seren
        Mared Elin Angharad Bethan Branwen Gwen Gwenllian Heledd Llinos Lleucu Alys Awen Efa
        Enfys Glesni Dafydd Dewi Emyr Gareth Geraint Gethin Gruffydd Gwion Huw Iestyn Ieuan Iwan
        Llyr Llŷr Osian Rhodri Rhys Sion Siôn Steffan Tomos Ioan Cai Deio Elis Macsen Math
        Morgan Owain Owen Tegid Trystan Aled Alun Bryn Cledwyn Emrys Hywel Idris Islwyn Aileen
        Ailsa Eilidh Isla Morag Mhairi Kirsty Catriona Fiona Iona Greer Ewan Euan Hamish Angus
        Fraser Calum Callum Ruaridh Ruairi Lachlan Finlay Alasdair Niamh Aoife Siobhan Saoirse
        Caoimhe Roisin Róisín Orla Sinead Sinéad Clodagh Grainne Gráinne Aisling Ciara Eimear
        Oisin Oisín Cian Ciaran Cillian Darragh Eoin Padraig Pádraig Seamus Séamus Tadhg Niall
        Ronan Colm Donal Fionn""",
    "English given names missing from the locale lists": """
        Tamsin Jolene Kayleigh Kayley Leanne Lianne Shannon Chelsey Demi Jodie Jody Kerry Kerrie
        Stacey Stacy Tracey Tracy Zoe Zoë Abbie Abi Evie Lacey Lexi Lexie Macie Maisie Mollie
        Millie Tillie Poppy Darcie Darcey Ellie Elsie Libby Callie Kacey Kenzie Mackenzie Ruby
        Jo Mae Rae Lou Kai Jay Alfie Archie Charlie Freddie Harley Kian Kieran Kyle Lewis Mason
        Reece Rhys Riley Tyler Brandon Bradley Callum Connor Declan Jake Josh Kane Liam Nathan
        Ryan Shane Wayne Dean Lee""",
}


def faker_names() -> tuple[set[str], set[str]]:
    first: set[str] = set()
    last: set[str] = set()
    for info in pkgutil.iter_modules(person_providers.__path__):
        module = importlib.import_module(f"{person_providers.__name__}.{info.name}")
        for attr, value in vars(module.Provider).items():
            if not attr.startswith(("first_names", "last_names")) or isinstance(value, property):
                continue
            if callable(value):
                continue
            target = first if attr.startswith("first") else last
            for name in value.keys() if isinstance(value, dict) else value:
                if isinstance(name, str) and LATIN.match(name) and len(name) > 1:
                    target.add(name.lower())
    return first, last


def community_names() -> set[str]:
    return {name.lower() for names in COMMUNITY_FIRST_NAMES.values() for name in names.split()}


def textblob_words() -> tuple[set[str], set[str], set[str]]:
    root = Path(textblob.__file__).parent / "en"
    common: set[str] = set()
    proper: set[str] = set()
    for line in (root / "en-lexicon.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(";") or not line.strip():
            continue
        word, *tags = line.split()
        if not re.fullmatch(r"[A-Za-z][A-Za-z'\-]*", word):
            continue
        if word[0].islower():
            common.add(word)
        elif tags and tags[0] in {"NNP", "NNPS"}:
            proper.add(word.lower())
    frequent: set[str] = set()
    for line in (root / "en-spelling.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(";") or not line.strip():
            continue
        word, count = line.split()
        if int(count) >= FREQUENT:
            frequent.add(word.lower())
    return common, proper - common, frequent


def babel_places() -> set[str]:
    english = babel.Locale("en")
    words: set[str] = set()
    for name in [*english.languages.values(), *english.territories.values()]:
        for word in re.findall(r"[A-Za-z]+", name):
            if word[0].isupper() and len(word) > 2:
                words.add(word.lower())
    return words


def main() -> None:
    first, last = faker_names()
    first |= community_names()
    common, proper, frequent = textblob_words()
    data = {
        "sources": {
            "faker": faker.VERSION,
            "textblob": textblob.__version__,
            "babel": babel.__version__,
            "licence": "MIT (Faker, TextBlob), BSD-3-Clause (Babel)",
            "community_first_names": len(community_names()),
        },
        "first": sorted(first),
        "last": sorted(last),
        "common": sorted(common),
        "proper": sorted(proper),
        "frequent": sorted(frequent),
        "places": sorted(babel_places()),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    OUT.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(
        f"{OUT}: {len(first)} first, {len(last)} last, {len(common)} common, "
        f"{len(proper)} proper, {len(frequent)} frequent; {OUT.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
