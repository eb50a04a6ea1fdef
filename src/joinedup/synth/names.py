"""Name lists for a synthetic London, and the name bank the generator draws from.

London is one of the most diverse places on earth: the lists below cover the largest origin
groups in south London (Census 2021 shows no majority group in these boroughs). Within each
group names are drawn with Zipf-like weights, so common names (Smith, Khan, Begum, Nguyen,
Mohammed) are shared by many people — a real difficulty for linkage. All names are common
given and family names; no list is taken from real records.

Names are handled as integer indices into one ``NameBank`` so that millions of records are
rendered by dictionary look-up, not string building.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class OriginGroup:
    key: str
    weight: float  # share of households (approximate, south London)
    family: str  # space-separated, "_" stands for a space inside a name
    male: str
    female: str


GROUPS: tuple[OriginGroup, ...] = (
    OriginGroup(
        "british",
        0.36,
        "Smith Jones Williams Brown Taylor Davies Wilson Evans Thomas Johnson Roberts Walker "
        "Wright Robinson Thompson White Hughes Edwards Green Hall Wood Harris Lewis Martin "
        "Jackson Clarke Clark Turner Hill Scott Cooper Morris Ward Moore King Watson Baker "
        "Harrison Morgan Patel Young Allen Mitchell James Anderson Phillips Lee Bell Parker "
        "Davis Kelly",
        "Oliver George Harry Jack Noah Charlie Jacob Thomas Oscar William James Henry Leo "
        "Joshua Freddie Archie Alfie Daniel Samuel Joseph Edward Benjamin Alexander Max Lucas "
        "Michael David John Paul Mark Andrew Richard Robert Christopher Matthew Stephen Peter "
        "Anthony Jonathan Nicholas",
        "Olivia Amelia Isla Ava Emily Isabella Mia Poppy Ella Lily Grace Sophia Evie Freya "
        "Charlotte Florence Jessica Alice Ruby Sophie Sarah Emma Laura Rebecca Hannah Katherine "
        "Elizabeth Margaret Susan Patricia Jennifer Victoria Catherine Deborah Claire Helen "
        "Rachel Joanne Amy Lucy",
    ),
    OriginGroup(
        "irish",
        0.02,
        "Murphy Kelly O'Sullivan Walsh O'Brien Byrne Ryan O'Connor O'Neill Reilly Doyle McCarthy "
        "Gallagher Doherty Kennedy Lynch Murray Quinn Moore McLoughlin Carroll Connolly Daly "
        "Connell",
        "Sean Patrick Conor Cian Liam Darragh Oisín Ciarán Niall Eoin Declan Brendan Aidan "
        "Kevin Fergal Ronan Cathal Padraig Seamus Eamonn",
        "Siobhán Niamh Aoife Ciara Saoirse Róisín Orla Sinéad Caoimhe Aisling Clodagh Grainne "
        "Mairead Deirdre Bridget Maeve Eimear Nuala Fionnuala Sorcha",
    ),
    OriginGroup(
        "west_african",
        0.09,
        "Okafor Adeyemi Okonkwo Mensah Boateng Owusu Adebayo Oluwole Nwosu Eze Ogunleye "
        "Asante Osei Agyeman Adeleke Okoro Obi Afolabi Balogun Ibrahim Abubakar Ogunbiyi "
        "Oyelaran Akinola Adewale Nnamdi Chukwu Amoah Appiah Darko Danso Ofori Bello Sesay "
        "Kamara Conteh",
        "Oluwaseun Oluwatobi Chukwuemeka Adebayo Babajide Kwame Kofi Kwabena Yaw Emmanuel "
        "Samuel Daniel David Joshua Olumide Tunde Femi Chinedu Ikenna Obinna Kelechi Nnamdi "
        "Ayodele Olamide Kayode Segun Ebuka Kwasi Nana Ibrahim",
        "Oluwakemi Olufunmilayo Chiamaka Ngozi Adaeze Abena Akosua Ama Efua Esi Folake Funke "
        "Temitope Titilayo Yetunde Bukola Adeola Chioma Nneka Ifeoma Blessing Grace Precious "
        "Favour Comfort Gifty Abigail Deborah Esther Mercy",
    ),
    OriginGroup(
        "east_african",
        0.025,
        "Mohamed Ali Ahmed Hassan Abdi Omar Farah Hussein Yusuf Osman Warsame Jama Egal "
        "Haile Tesfaye Gebre Tekle Mengistu Bekele Girma Kahsay Mebrahtu Ogbe Woldemariam",
        "Mohamed Abdirahman Abdullahi Ahmed Ali Hassan Omar Yusuf Abdi Mustafe Liban Khalid "
        "Dawit Yonas Samuel Daniel Biniam Henok Tesfay Mehari Filmon",
        "Fadumo Hodan Asha Amina Sahra Hibo Ifrah Nimco Ayan Deeqa Filsan Hamdi Saida Ladan "
        "Hiwet Selam Helen Meron Rahel Senait Mekdes Lidya",
    ),
    OriginGroup(
        "caribbean",
        0.06,
        "Campbell Brown Williams Smith Johnson Thomas Francis Grant Reid Henry Graham Robinson "
        "Bailey Richards Clarke Lewis Edwards Gordon Morgan Samuels Murray Stewart Bennett "
        "Wallace Anderson Simpson Forbes McKenzie Blake Walters",
        "Jermaine Delroy Winston Marcus Tyrone Leon Dwayne Kareem Andre Troy Devon Clive "
        "Lloyd Errol Trevor Courtney Shaquille Jerome Nathaniel Isaiah Tyrell Kemar Dante "
        "Reuben Malachi",
        "Shanice Marcia Beverley Jacqueline Sharon Paulette Michelle Tanisha Keisha Chantelle "
        "Simone Natasha Kerry-Ann Janelle Shenice Ebony Jada Imani Tia Zara Nadia Precious "
        "Monique Denise Yvonne",
    ),
    OriginGroup(
        "south_asian_muslim",
        0.055,
        "Khan Ahmed Ali Hussain Rahman Begum Islam Miah Uddin Hossain Akhtar Iqbal Mahmood "
        "Chowdhury Bibi Shah Malik Butt Raja Qureshi Rashid Sheikh Siddique Ullah Haque Karim",
        "Mohammed Muhammad Abdul Mohammad Ahmed Ali Ibrahim Yusuf Hamza Ayaan Zain Imran "
        "Tariq Rashid Shahid Faisal Kamal Jamal Rahim Nazrul Shahidul Aminul Rizwan Saif Arif",
        "Fatima Ayesha Maryam Zainab Khadija Amina Aisha Nusrat Shahida Rahima Salma Nasreen "
        "Sadia Rukhsana Farzana Hafsa Inaaya Anaya Safiya Yasmin Shabana Rubina Tahmina Sumaiya",
    ),
    OriginGroup(
        "south_asian",
        0.05,
        "Patel Shah Sharma Singh Kaur Kumar Gupta Mehta Desai Joshi Pillai Nair Sivakumar "
        "Rajaratnam Balasubramaniam Selvarajah Thurairajah Ganesh Krishnan Reddy Rao Iyer "
        "Chopra Malhotra Sandhu Gill Dhillon Perera Fernando Silva",
        "Rajesh Amit Sanjay Vijay Arjun Rohan Krishna Aarav Vihaan Rahul Nikhil Sunil Anil "
        "Harpreet Gurpreet Manpreet Jaspal Sivakumar Kannan Prakash Suresh Dinesh Venkatesh "
        "Ravi Ajay Deepak",
        "Priya Sunita Anjali Pooja Neha Kavita Lakshmi Meena Asha Divya Shreya Ananya Aditi "
        "Harpreet Jaspreet Simran Gurleen Tharshini Nirosha Kavitha Geetha Rekha Usha Nisha "
        "Saanvi",
    ),
    OriginGroup(
        "east_european",
        0.07,
        "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński "
        "Szymański Woźniak Dąbrowski Kozłowski Jankowski Mazur Popescu Ionescu Popa Stan "
        "Dumitru Constantin Kazlauskas Petrauskas Jankauskas Ivanov Georgiev Dimitrov "
        "Horváth Kovács",
        "Piotr Krzysztof Tomasz Andrzej Paweł Michał Marcin Łukasz Jakub Wojciech Mateusz "
        "Kamil Adam Bartłomiej Andrei Alexandru Ionuț Mihai Gheorghe Ștefan Vasile Darius "
        "Tomas Mantas Jonas Dimitar Georgi Ivan",
        "Anna Katarzyna Małgorzata Agnieszka Aleksandra Magdalena Joanna Monika Natalia "
        "Zuzanna Julia Maja Ewa Marta Ioana Elena Maria Andreea Alexandra Gabriela Irina "
        "Daria Ieva Gintarė Rūta Desislava Petya Ivanka Zsófia",
    ),
    OriginGroup(
        "south_european",
        0.06,
        "Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Gonçalves Gomes "
        "Lopes Marques Almeida Ribeiro Carvalho García Fernández González López Martínez "
        "Sánchez Romero Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci "
        "Da_Silva De_Souza",
        "João José António Francisco Manuel Pedro Rui Tiago Diogo Miguel Carlos Javier "
        "Alejandro Pablo Sergio Jorge Marco Luca Giuseppe Alessandro Matteo Lorenzo Andrea "
        "Giovanni Gonçalo",
        "Maria Ana Sofia Beatriz Inês Mariana Conceição Fátima Carla Joana Lucía Carmen Laura "
        "Marta Paula Elena Giulia Chiara Francesca Sara Alessia Valentina Federica Martina "
        "Rosa",
    ),
    OriginGroup(
        "latin_american",
        0.025,
        "Rodríguez Gómez Hernández Díaz Pérez Ramírez Torres Flores Rivera Vargas Castro "
        "Ramos Morales Ortiz Gutiérrez Jiménez Ruiz Álvarez Mendoza Moreno Herrera Medina "
        "Aguilar Vásquez Restrepo",
        "Juan Luis Carlos Jorge Andrés Santiago Sebastián Mateo Diego Felipe Alejandro "
        "Camilo Julián Nicolás Eduardo Fernando Ricardo Gustavo Hernán Wilson",
        "María Daniela Valentina Camila Gabriela Natalia Andrea Paola Carolina Mariana "
        "Isabella Luisa Juliana Adriana Ximena Fernanda Lorena Diana Claudia Sandra",
    ),
    OriginGroup(
        "east_asian",
        0.04,
        "Nguyen Tran Le Pham Hoang Vu Dang Bui Wang Li Zhang Liu Chen Yang Huang Zhao Wu "
        "Zhou Lin Wong Chan Cheung Lam Santos Reyes Cruz Bautista Dela_Cruz Garcia Kim Park",
        "Minh Anh Duc Hung Tuan Nam Long Wei Jun Hao Yi Ming Jian Kai Chun Hoi Wing Ka "
        "Jose Mark John_Paul Joshua Min-jun Ji-hoon David Kevin",
        "Linh Huong Mai Lan Thao Trang Ngoc Xin Mei Ying Hui Li Na Fang Yan Wai Man Ka Yee "
        "Maria Kristine Joy Ma_Theresa Seo-yeon Ji-woo Jenny Grace",
    ),
    OriginGroup(
        "turkish_kurdish",
        0.02,
        "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan "
        "Kılıç Aslan Çetin Kara Koç Kurt Özkan Şimşek",
        "Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim Murat Emre Yusuf Burak Can Deniz "
        "Serkan Kemal Baran Rojhat Azad Erdem Onur",
        "Ayşe Fatma Emine Hatice Zeynep Elif Merve Büşra Esra Gül Özlem Derya Sibel Leyla "
        "Rojda Berfin Dilan Nur Songül Aylin",
    ),
    OriginGroup(
        "arab",
        0.02,
        "Al-Hashimi Hassan Ibrahim Mahmoud Abdallah Saleh Haddad Khalil Nasser Darwish "
        "Mansour Youssef Al-Masri Hamid Said Aziz Othman Kareem Al-Ali Salem",
        "Mohammed Ahmed Omar Youssef Khaled Ali Mahmoud Hassan Karim Tariq Samir Nabil Rami "
        "Ziad Bilal Adam Hamza Yasin Faris Sami",
        "Fatima Maryam Noor Layla Sara Huda Rania Dina Lina Yasmin Hana Amira Nour Salma "
        "Reem Aya Malak Jana Farah Zahra",
    ),
)

# Diminutives, short forms and transliteration/spelling variants of given names.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Will", "Bill", "Billy"),
    "Robert": ("Rob", "Bob", "Bobby"),
    "Richard": ("Rich", "Rick", "Dick"),
    "James": ("Jim", "Jamie", "Jimmy"),
    "Thomas": ("Tom", "Tommy"),
    "Michael": ("Mike", "Mick", "Micky"),
    "David": ("Dave", "Davy"),
    "John": ("Jon", "Johnny", "Jack"),
    "Joseph": ("Joe", "Joey"),
    "Samuel": ("Sam", "Sammy"),
    "Benjamin": ("Ben", "Benji"),
    "Daniel": ("Dan", "Danny"),
    "Alexander": ("Alex", "Sandy", "Xander"),
    "Christopher": ("Chris", "Kit"),
    "Matthew": ("Matt", "Matty"),
    "Nicholas": ("Nick", "Nicky"),
    "Jonathan": ("Jon", "Jonny"),
    "Anthony": ("Tony", "Ant"),
    "Andrew": ("Andy", "Drew"),
    "Stephen": ("Steve", "Steven", "Stevie"),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Henry": ("Harry", "Hal"),
    "Frederick": ("Freddie", "Fred"),
    "Oliver": ("Ollie",),
    "Charlie": ("Charles",),
    "Joshua": ("Josh",),
    "Peter": ("Pete",),
    "Paul": ("Paulie",),
    "Mark": ("Marc",),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Katherine": ("Kate", "Katie", "Kathy", "Catherine"),
    "Catherine": ("Cathy", "Kate", "Katherine"),
    "Jennifer": ("Jenny", "Jen"),
    "Victoria": ("Vicky", "Tori"),
    "Rebecca": ("Becky", "Becca"),
    "Susan": ("Sue", "Suzy"),
    "Patricia": ("Pat", "Trish"),
    "Deborah": ("Debbie", "Debra"),
    "Charlotte": ("Charlie", "Lottie"),
    "Jessica": ("Jess", "Jessie"),
    "Olivia": ("Liv", "Livvy"),
    "Amelia": ("Millie", "Amy"),
    "Isabella": ("Bella", "Izzy", "Isabel"),
    "Florence": ("Flo", "Florrie"),
    "Sophie": ("Sophia",),
    "Sarah": ("Sara",),
    "Hannah": ("Hanna",),
    "Rachel": ("Rach",),
    "Joanne": ("Jo", "Joanna"),
    "Patrick": ("Pat", "Paddy"),
    "Sean": ("Shaun", "Shawn", "Seán"),
    "Siobhán": ("Siobhan", "Shivaun"),
    "Niamh": ("Neve",),
    "Ciarán": ("Ciaran", "Kieran"),
    "Oisín": ("Oisin",),
    "Róisín": ("Roisin", "Rosheen"),
    "Sinéad": ("Sinead",),
    "Aoife": ("Eva",),
    "Seamus": ("Shamus",),
    "Oluwaseun": ("Seun", "Seyi"),
    "Oluwatobi": ("Tobi", "Toby"),
    "Chukwuemeka": ("Emeka",),
    "Babajide": ("Jide",),
    "Adebayo": ("Bayo", "Ade"),
    "Olufunmilayo": ("Funmi", "Funmilayo"),
    "Oluwakemi": ("Kemi",),
    "Chiamaka": ("Amaka",),
    "Temitope": ("Tope", "Temi"),
    "Titilayo": ("Titi",),
    "Olumide": ("Mide",),
    "Oluwole": ("Wole",),
    "Adaeze": ("Ada",),
    "Kwabena": ("Kobby",),
    "Emmanuel": ("Emma", "Manny"),
    "Mohammed": ("Mohammad", "Muhammad", "Mohamed", "Md"),
    "Muhammad": ("Mohammed", "Mohamed", "Md"),
    "Mohammad": ("Mohammed", "Muhammad"),
    "Mohamed": ("Mohammed", "Mohamud"),
    "Abdirahman": ("Abdi", "Abdulrahman"),
    "Abdullahi": ("Abdi", "Abdullah"),
    "Yusuf": ("Yousuf", "Yousef", "Joseph"),
    "Youssef": ("Yousef", "Yusuf"),
    "Ibrahim": ("Ebrahim", "Ibraheem"),
    "Fatima": ("Fatema", "Fatimah"),
    "Fadumo": ("Fatuma", "Faduma"),
    "Ayesha": ("Aisha", "Aysha"),
    "Aisha": ("Ayesha", "Aysha"),
    "Khadija": ("Khadijah", "Khadeeja"),
    "Maryam": ("Mariam", "Miriam"),
    "Zainab": ("Zaynab",),
    "Omar": ("Umar",),
    "Hussain": ("Hussein", "Husain"),
    "Syed": ("Sayed", "Said"),
    "Rajesh": ("Raj",),
    "Venkatesh": ("Venky",),
    "Krishna": ("Krish",),
    "Sivakumar": ("Siva",),
    "Harpreet": ("Harry",),
    "Gurpreet": ("Gary",),
    "Lakshmi": ("Laxmi",),
    "Piotr": ("Peter",),
    "Krzysztof": ("Chris", "Krzys"),
    "Tomasz": ("Tom", "Tomek"),
    "Andrzej": ("Andrew",),
    "Paweł": ("Pawel", "Paul"),
    "Michał": ("Michal", "Michael"),
    "Łukasz": ("Lukasz", "Luke"),
    "Wojciech": ("Wojtek",),
    "Bartłomiej": ("Bartlomiej", "Bartek"),
    "Katarzyna": ("Kasia", "Kate"),
    "Małgorzata": ("Malgorzata", "Gosia"),
    "Agnieszka": ("Aga",),
    "Aleksandra": ("Ola", "Alex"),
    "Magdalena": ("Magda",),
    "Ionuț": ("Ionut",),
    "Ștefan": ("Stefan",),
    "Gheorghe": ("George",),
    "Mihai": ("Michael",),
    "Gintarė": ("Gintare",),
    "Rūta": ("Ruta",),
    "João": ("Joao", "John"),
    "José": ("Jose", "Zé"),
    "António": ("Antonio", "Tony"),
    "Francisco": ("Chico", "Paco"),
    "Gonçalo": ("Goncalo",),
    "Inês": ("Ines",),
    "Conceição": ("Conceicao", "São"),
    "Fátima": ("Fatima",),
    "Giuseppe": ("Joseph", "Peppe"),
    "Alessandro": ("Alex", "Sandro"),
    "Giovanni": ("Gianni", "John"),
    "Alejandro": ("Alex", "Ale"),
    "Sebastián": ("Sebastian", "Seba"),
    "Nicolás": ("Nicolas", "Nico"),
    "Andrés": ("Andres",),
    "Julián": ("Julian",),
    "Hernán": ("Hernan",),
    "María": ("Maria",),
    "Wei": ("William", "Wayne"),
    "Jun": ("Jason",),
    "Ming": ("Michael",),
    "Huong": ("Helen",),
    "Xin": ("Cindy",),
    "Mei": ("May",),
    "Thao": ("Tina",),
    "Hüseyin": ("Huseyin", "Hussein"),
    "İbrahim": ("Ibrahim",),
    "Ayşe": ("Ayse", "Aisha"),
    "Büşra": ("Busra",),
    "Gül": ("Gul",),
    "Özlem": ("Ozlem",),
    "Songül": ("Songul",),
}


def ascii_fold(text: str) -> str:
    """Drop accents the way many older systems do (Łukasz -> Lukasz, Çelik -> Celik)."""
    special = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "İ": "I", "ø": "o", "Ø": "O"})
    decomposed = unicodedata.normalize("NFKD", text.translate(special))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def family_variants(name: str) -> list[str]:
    """Ways the same family name is commonly written differently (not typos)."""
    out: list[str] = []
    folded = ascii_fold(name)
    if folded != name:
        out.append(folded)
    if "'" in name:
        out.append(name.replace("'", ""))
        out.append(name.replace("'", " "))
    if " " in name:
        out.append(name.replace(" ", ""))
        out.append(name.replace(" ", "-"))
    if name.startswith("Mc"):
        out.append("Mac" + name[2:])
    if name.startswith("Al-"):
        out.append("Al " + name[3:])
        out.append(name[3:])
    if "-" in name and not name.startswith("Al-"):
        out.append(name.replace("-", " "))
    return [v for v in dict.fromkeys(out) if v and v != name]


def _zipf(n: int, exponent: float = 0.5) -> npt.NDArray[np.float64]:
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return w / w.sum()


@dataclass
class NameBank:
    """All name strings, addressed by index, with per-group sampling tables and variants."""

    strings: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    group_family: list[npt.NDArray[np.int32]] = field(default_factory=list)
    group_given: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]] = field(
        default_factory=list
    )  # (female, male) index arrays
    hyphen_a: dict[int, int] = field(default_factory=dict)
    hyphen_b: dict[int, int] = field(default_factory=dict)

    def add(self, text: str) -> int:
        found = self.index.get(text)
        if found is None:
            found = len(self.strings)
            self.strings.append(text)
            self.index[text] = found
        return found

    @classmethod
    def build(cls) -> NameBank:
        bank = cls()
        for group in GROUPS:
            fam = [bank.add(n.replace("_", " ")) for n in group.family.split()]
            female = [bank.add(n.replace("_", " ")) for n in group.female.split()]
            male = [bank.add(n.replace("_", " ")) for n in group.male.split()]
            bank.group_family.append(np.array(fam, dtype=np.int32))
            bank.group_given.append(
                (np.array(female, dtype=np.int32), np.array(male, dtype=np.int32))
            )
        return bank

    @property
    def group_weights(self) -> npt.NDArray[np.float64]:
        w = np.array([g.weight for g in GROUPS], dtype=np.float64)
        return w / w.sum()

    def sample_family(
        self, rng: np.random.Generator, groups: npt.NDArray[np.int8]
    ) -> npt.NDArray[np.int32]:
        out = np.empty(groups.size, dtype=np.int32)
        for g, pool in enumerate(self.group_family):
            sel = np.flatnonzero(groups == g)
            if sel.size:
                out[sel] = pool[rng.choice(pool.size, size=sel.size, p=_zipf(pool.size))]
        return out

    def sample_given(
        self,
        rng: np.random.Generator,
        groups: npt.NDArray[np.int8],
        sex: npt.NDArray[np.int8],
    ) -> npt.NDArray[np.int32]:
        out = np.empty(groups.size, dtype=np.int32)
        for g, pools in enumerate(self.group_given):
            for s in (0, 1):
                sel = np.flatnonzero((groups == g) & (sex == s))
                if sel.size:
                    pool = pools[s]
                    out[sel] = pool[rng.choice(pool.size, size=sel.size, p=_zipf(pool.size, 0.5))]
        return out

    def hyphenate(
        self, a: npt.NDArray[np.int32], b: npt.NDArray[np.int32]
    ) -> npt.NDArray[np.int32]:
        """Double-barrelled names ``A-B`` (added to the bank), remembering their halves."""
        out = np.empty(a.size, dtype=np.int32)
        for i, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
            if x == y:
                out[i] = x
                continue
            idx = self.add(f"{self.strings[x]}-{self.strings[y]}")
            self.hyphen_a[idx] = x
            self.hyphen_b[idx] = y
            out[i] = idx
        return out

    def variant_table(self, kind: str) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """CSR-style table of variants per name index: (offsets[len+1], flat variant indices).

        ``kind`` is ``"given"`` (nicknames and spellings) or ``"family"`` (written forms).
        Call after every name is in the bank; it adds the variants themselves to the bank.
        """
        n = len(self.strings)
        lists: list[list[int]] = []
        for i in range(n):
            text = self.strings[i]
            if kind == "given":
                variants = list(NICKNAMES.get(text, ()))
                folded = ascii_fold(text)
                if folded != text and folded not in variants:
                    variants.append(folded)
            else:
                variants = family_variants(text)
            lists.append([self.add(v) for v in variants])
        offsets = np.zeros(n + 1, dtype=np.int32)
        offsets[1:] = np.cumsum([len(v) for v in lists])
        flat = np.array([x for v in lists for x in v], dtype=np.int32)
        return offsets, flat

    def hyphen_parts(self) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        n = len(self.strings)
        a = np.full(n, -1, dtype=np.int32)
        b = np.full(n, -1, dtype=np.int32)
        for k, v in self.hyphen_a.items():
            a[k] = v
            b[k] = self.hyphen_b[k]
        return a, b


GIVEN_NAME_GROUP_KEYS = tuple(g.key for g in GROUPS)
