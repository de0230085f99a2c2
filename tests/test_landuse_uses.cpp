// 用途制限 (建築基準法第48条, 別表第2) as data: the "uses" section of rules/japan.json, parsed into
// RulesFile::uses, checked for a planned use (RuleSet::checkUse, `twin procedures`) and for existing
// buildings from their PLATEAU bldg:usage (RuleSet::checkBuildingUse, `twin check`). Each hand case
// names the article that decides it and why.
//
// Hand-made sites are squares in one or two use districts (codes of districts.UseDistrict: 1
// 第一種低層住居専用 … 13 工業専用); the end-to-end case lives in plane rectangular zone IX
// (EPSG:6677), where areas in the store CRS are the ones written here.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_support.h"
#include "twin/landuse/commands.h"
#include "twin/landuse/report_json.h"
#include "twin/landuse/site.h"

using namespace twin;
using namespace twin::landuse;
using namespace twin::test;

namespace {

RuleSet rules() {
  auto r = RuleSet::load(RuleSet::defaultPath());
  REQUIRE(r.value);
  return *r.value;
}

District useDistrict(const std::string& id, const std::string& code) {
  District d;
  d.id = id;
  d.kind = "UseDistrict";
  d.code = code;
  return d;
}

// A 20 × 20 m site; `codes` the use districts over it with their shares (summing to 1 or less).
Site siteIn(const std::vector<std::pair<std::string, double>>& codes) {
  Site s;
  Parcel p;
  p.id = "P";
  p.chiban = "1-1";
  p.geom = {Poly{{{0, 0}, {20, 0}, {20, 20}, {0, 20}}, {}}};
  p.area = 400;
  s.parcels = {p};
  s.geom = p.geom;
  s.area = p.area;
  int k = 0;
  for (auto& [code, share] : codes)
    s.districts.push_back({useDistrict("U" + std::to_string(k++), code), share * s.area, share});
  s.kindsNearby = {"UseDistrict"};
  return s;
}
Site siteIn(const std::string& code) { return siteIn({{code, 1.0}}); }

Plan plan(const std::string& use, double floorArea, int storeys = -1) {
  Plan p;
  p.use = use;
  p.floorArea = floorArea;
  p.storeys = storeys;
  return p;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A building as the store holds it: `usage` as the reader gives bldg:usage (the code, or its name
// where the code list was found).
Building building(const std::string& id, const std::string& usage, double floorArea, int storeys) {
  Building b;
  b.id = id;
  b.footprint = {Poly{{{2, 2}, {12, 2}, {12, 12}, {2, 12}}, {}}};
  b.footprintSource = "made by hand";
  b.buildingArea = 100;
  b.height = 3.0 * storeys;
  b.heightSource = "bldg:measuredHeight";
  b.storeysAbove = storeys;
  b.floorArea = floorArea;
  b.floorAreaSource = "uro:totalFloorArea";
  b.usage = usage;
  return b;
}

// The rules file's text as a municipality would copy it.
std::string japanText() { return readText(RuleSet::defaultPath()); }

}  // namespace

TEST_CASE("用途制限 data: every use has a cell for all 13 use districts, each citing 別表第2", "[landuse]") {
  RuleSet rs = rules();
  const UseRules& u = rs.file().uses;
  CHECK(u.title == "用途制限 use restriction");
  CHECK(u.article == "建築基準法第48条, 別表第2");
  REQUIRE(u.clauses.size() == 13);
  CHECK(u.clauses.at("1").article == "建築基準法第48条第1項");
  CHECK(u.clauses.at("1").table == "別表第2(い)項");
  CHECK(u.clauses.at("1").permitted);                 // (い)項 lists what may be built
  CHECK_FALSE(u.clauses.at("4").permitted);           // (に)項 lists what may not
  CHECK(u.clauses.at("8").table == "別表第2(ち)項");  // 田園住居 (法48条8項, since 2018)
  CHECK(u.clauses.at("13").article == "建築基準法第48条第13項");
  REQUIRE(u.list.size() >= 30);
  for (auto& use : u.list) {
    INFO(use.id);
    CHECK(use.districts.size() == 13);
    for (auto& [code, cell] : use.districts) {
      INFO(code);
      CHECK(cell.article.rfind("別表第2(", 0) == 0);
      if (cell.allowed == UseCell::Allowed::Unknown) CHECK_FALSE(cell.reason.empty());
    }
  }
  // A plan names a use by its id, its Japanese name or another name it is known by.
  REQUIRE(u.find("office"));
  CHECK(u.find("事務所") == u.find("office"));
  CHECK(u.find(" 共同住宅 ")->id == "apartment");
  CHECK(u.find("ホテル")->id == "hotel");
  CHECK_FALSE(u.find("宇宙港"));
  // PLATEAU bldg:usage by code or by the code's name.
  REQUIRE(u.usage("411"));
  CHECK(u.usage("411")->uses == std::vector<std::string>{"house"});
  CHECK(u.usage("共同住宅") == u.usage("412"));
  CHECK(u.usage("414")->all);
  CHECK(u.usage("461")->uses.empty());
}

TEST_CASE("用途制限 of a planned use: hand cases from 別表第2", "[landuse]") {
  RuleSet rs = rules();
  auto check = [&](const Site& s, const Plan& p) {
    RuleResult r = rs.checkUse(s, p);
    CHECK(r.rule == "use");
    CHECK(r.title == "用途制限 use restriction");
    CHECK(r.article == "建築基準法第48条, 別表第2");
    return r;
  };
  // 事務所 of 400 m² in 第一種低層住居専用地域: 別表第2(い)項 lists what may be built there (住宅,
  // 兼用住宅, 共同住宅, 学校, …) and 事務所 is not among it (法48条1項): fail, whatever its size.
  auto office = check(siteIn("1"), plan("事務所", 400, 2));
  CHECK(office.verdict == Verdict::Fail);
  CHECK(has(office.reason, "別表第2(い)項"));
  CHECK(has(office.reason, "建築基準法第48条第1項"));
  CHECK(has(office.reason, "ただし書き"));  // the 特定行政庁's permit is named, not assumed
  // 日用品販売店舗 in 第二種低層住居専用地域: (ろ)項第2号 and 令130条の5の2 allow it up to 150 m² of
  // the use part, not on the 3rd floor or above. 140 m² on 2 storeys passes; 160 m² fails.
  auto shop140 = check(siteIn("2"), plan("日用品販売店舗", 140, 2));
  CHECK(shop140.verdict == Verdict::Pass);
  CHECK(shop140.value == Approx(140));
  CHECK(shop140.limit == Approx(150));
  CHECK(has(shop140.formula, "別表第2(ろ)項第2号"));
  CHECK(check(siteIn("2"), plan("shop-daily", 160, 2)).verdict == Verdict::Fail);
  // The same shop filling a 3-storey building is on the 3rd floor: fail; the same building with the
  // shop on its ground floor only (use_floor 1, 140 m²) passes.
  CHECK(check(siteIn("2"), plan("shop-daily", 140, 3)).verdict == Verdict::Fail);
  Plan lower = plan("shop-daily", 300, 3);
  lower.useFloorArea = 140;
  lower.useFloor = 1;
  CHECK(check(siteIn("2"), lower).verdict == Verdict::Pass);
  // A shop of any kind (店舗): in 第二種低層 only 令130条の5の2's kinds — the plan does not say
  // which: unknown, never a pass. In 第一種中高層 (は)項第5号 allows 物品販売店舗 up to 500 m².
  auto anyShop = check(siteIn("2"), plan("店舗", 140, 2));
  CHECK(anyShop.verdict == Verdict::Unknown);
  CHECK(has(anyShop.reason, "令130条の5の2"));
  CHECK(check(siteIn("2"), plan("店舗", 200, 1)).verdict == Verdict::Fail);  // over 150 m² whatever the kind
  CHECK(check(siteIn("3"), plan("店舗", 480, 2)).verdict == Verdict::Pass);
  // ホテル in 第一種住居地域: (ほ)項第4号 prohibits what is not a (は)項 building beyond 3,000 m².
  CHECK(check(siteIn("5"), plan("ホテル", 2500, 5)).verdict == Verdict::Pass);
  auto hotel = check(siteIn("5"), plan("ホテル", 3500, 5));
  CHECK(hotel.verdict == Verdict::Fail);
  CHECK(has(hotel.reason, "3500 m² exceeds 3000 m²"));
  CHECK(has(hotel.reason, "別表第2(ほ)項第4号"));
  // ホテル in 第二種中高層: (に)項第4号 prohibits it; in 工業地域 (を)項第2号.
  CHECK(check(siteIn("4"), plan("hotel", 500, 3)).verdict == Verdict::Fail);
  CHECK(check(siteIn("12"), plan("hotel", 500, 3)).verdict == Verdict::Fail);
  // 工場 in 工業専用地域: (わ)項 does not prohibit it. 住宅 there: (わ)項第2号 does.
  CHECK(check(siteIn("13"), plan("工場", 5000, 2)).verdict == Verdict::Pass);
  auto house13 = check(siteIn("13"), plan("一戸建ての住宅", 120, 2));
  CHECK(house13.verdict == Verdict::Fail);
  CHECK(has(house13.reason, "別表第2(わ)項第2号"));
  // 共同住宅: (い)項第3号 and every other 項 but (わ)項第3号.
  for (int code = 1; code <= 12; ++code) {
    INFO(code);
    CHECK(check(siteIn(std::to_string(code)), plan("共同住宅", 2000, 5)).verdict == Verdict::Pass);
  }
  CHECK(check(siteIn("13"), plan("apartment", 2000, 5)).verdict == Verdict::Fail);
  // 事務所 in 第二種中高層 ((に)項第7号・第8号): up to 1,500 m², not on the 3rd floor or above.
  CHECK(check(siteIn("4"), plan("office", 1200, 2)).verdict == Verdict::Pass);
  CHECK(check(siteIn("4"), plan("office", 1200, 3)).verdict == Verdict::Fail);
  // The storeys unknown: the highest floor cannot be told.
  CHECK(check(siteIn("4"), plan("office", 1200)).verdict == Verdict::Unknown);
  // 大学 ((は)項第2号) not in 第一種低層, 第二種低層, 田園住居, 工業, 工業専用; 病院 likewise.
  const std::vector<std::pair<std::string, bool>> higher = {{"1", false}, {"2", false},  {"3", true},  {"8", false},
                                                            {"10", true}, {"12", false}, {"13", false}};
  for (auto& [code, ok] : higher) {
    INFO(code);
    CHECK(check(siteIn(code), plan("大学", 8000, 4)).verdict == (ok ? Verdict::Pass : Verdict::Fail));
    CHECK(check(siteIn(code), plan("病院", 8000, 4)).verdict == (ok ? Verdict::Pass : Verdict::Fail));
  }
  // 幼稚園・小中高 ((い)項第4号): everywhere but 工業 ((を)項第5号) and 工業専用.
  CHECK(check(siteIn("1"), plan("小学校", 6000, 3)).verdict == Verdict::Pass);
  CHECK(check(siteIn("12"), plan("小学校", 6000, 3)).verdict == Verdict::Fail);
  // 診療所 ((い)項第8号) anywhere, 工業専用 too.
  CHECK(check(siteIn("13"), plan("診療所", 200, 2)).verdict == Verdict::Pass);
}

TEST_CASE("用途制限: what the floor area alone cannot decide is unknown, never a pass", "[landuse]") {
  RuleSet rs = rules();
  // 劇場 in 準住居地域: (と)項第5号 counts the 客席 (seating): under 200 m². A 150 m² theatre's seating
  // is under 200 m² whatever its layout: pass. A 500 m² one may or may not be: unknown until the
  // seating area is given (180 m²: pass; 250 m²: fail).
  Site quasi = siteIn("7");
  CHECK(rs.checkUse(quasi, plan("劇場", 150, 1)).verdict == Verdict::Pass);
  auto big = rs.checkUse(quasi, plan("劇場", 500, 1));
  CHECK(big.verdict == Verdict::Unknown);
  CHECK(has(big.reason, "seating_area"));
  Plan seats = plan("劇場", 500, 1);
  seats.seatingArea = 180;
  CHECK(rs.checkUse(quasi, seats).verdict == Verdict::Pass);
  seats.seatingArea = 250;
  CHECK(rs.checkUse(quasi, seats).verdict == Verdict::Fail);
  // 工場 in 第一種住居地域: (ほ)項第1号 with (へ)項第2号 counts the 作業場 (workshop): 50 m² at most.
  Site res1 = siteIn("5");
  Plan factory = plan("工場", 300, 1);
  CHECK(rs.checkUse(res1, factory).verdict == Verdict::Unknown);
  factory.workshopArea = 40;
  CHECK(rs.checkUse(res1, factory).verdict == Verdict::Pass);
  factory.workshopArea = 60;
  CHECK(rs.checkUse(res1, factory).verdict == Verdict::Fail);
  // 近隣商業 ((ぬ)項第2号 through (り)項第1号): 150 m².
  factory.workshopArea = 140;
  CHECK(rs.checkUse(siteIn("9"), factory).verdict == Verdict::Pass);
  // 附属自動車車庫 in 第一種低層: 令130条の5 — at most 600 m² and the other floor area of the site,
  // not on the 2nd floor or above. A part of the building: its own floor area must be given.
  Site low = siteIn("1");
  Plan garage = plan("附属自動車車庫", 200, 2);
  CHECK(rs.checkUse(low, garage).verdict == Verdict::Unknown);  // no use_floor_area
  garage.useFloorArea = 40;
  CHECK(rs.checkUse(low, garage).verdict == Verdict::Unknown);  // which floor? (up to the 2nd)
  garage.useFloor = 1;
  CHECK(rs.checkUse(low, garage).verdict == Verdict::Pass);
  garage.useFloorArea = 120;  // 120 of 200 m²: more than the house it serves
  CHECK(rs.checkUse(low, garage).verdict == Verdict::Fail);
  // 兼用住宅 in 第一種低層 (令130条の3): the non-residential part 50 m² or less and at most half.
  Plan mixed = plan("兼用住宅", 120, 2);
  mixed.useFloorArea = 40;
  CHECK(rs.checkUse(low, mixed).verdict == Verdict::Pass);
  mixed.useFloorArea = 60;
  CHECK(rs.checkUse(low, mixed).verdict == Verdict::Fail);
  // In 第一種中高層 a bigger part is judged as its own use ((は)項 allows shops, not offices): unknown.
  CHECK(rs.checkUse(siteIn("3"), mixed).verdict == Verdict::Unknown);
  // 危険物: 令130条の9's quantities are not modelled: unknown in every district.
  for (int code = 1; code <= 13; ++code)
    CHECK(rs.checkUse(siteIn(std::to_string(code)), plan("危険物の貯蔵・処理施設", 100, 1)).verdict ==
          Verdict::Unknown);
}

TEST_CASE("用途制限 on a site across use districts: 法91条, the district covering more than half", "[landuse]") {
  RuleSet rs = rules();
  // 60 % in 商業地域, 40 % in 第一種低層: the whole site takes 商業地域's restrictions: an office passes.
  auto r = rs.checkUse(siteIn({{"10", 0.6}, {"1", 0.4}}), plan("事務所", 800, 4));
  CHECK(r.verdict == Verdict::Pass);
  CHECK(has(r.reason, "法91条"));
  CHECK(has(r.reason, "商業地域"));
  // Turned round (60 % 第一種低層): the office fails.
  auto turned = rs.checkUse(siteIn({{"10", 0.4}, {"1", 0.6}}), plan("事務所", 800, 4));
  CHECK(turned.verdict == Verdict::Fail);
  CHECK(has(turned.reason, "法91条"));
  // Two parts of one district count together (35 % + 30 % of 第一種住居).
  CHECK(rs.checkUse(siteIn({{"5", 0.35}, {"13", 0.35}, {"5", 0.30}}), plan("共同住宅", 800, 4)).verdict ==
        Verdict::Pass);
  // Exactly half: no district covers more than half: unknown, saying why.
  auto half = rs.checkUse(siteIn({{"10", 0.5}, {"1", 0.5}}), plan("事務所", 800, 4));
  CHECK(half.verdict == Verdict::Unknown);
  CHECK(has(half.reason, "exactly half"));
  CHECK(has(half.reason, "法91条"));
  // No use district in the store: unknown.
  Site none = siteIn("1");
  none.districts.clear();
  CHECK(rs.checkUse(none, plan("事務所", 800, 4)).verdict == Verdict::Unknown);
  // An unknown use: unknown, listing the ids the rules file knows.
  auto unknown = rs.checkUse(siteIn("10"), plan("宇宙港", 800, 4));
  CHECK(unknown.verdict == Verdict::Unknown);
  CHECK(has(unknown.reason, "unknown use '宇宙港'"));
  CHECK(has(unknown.reason, "house, apartment"));
  CHECK(has(unknown.reason, "office"));
  CHECK(rs.checkUse(siteIn("10"), plan("", 800, 4)).verdict == Verdict::Unknown);
}

TEST_CASE("用途制限 of existing buildings: non-conforming is unknown (may be 既存不適格), never a fail", "[landuse]") {
  RuleSet rs = rules();
  Site low = siteIn("1");
  // A 402 商業施設 in 第一種低層: none of the uses a 商業施設 may be is in (い)項: non-conforming, but
  // it may predate the designation (法3条2項): unknown, and the reason says so.
  auto shop = rs.checkBuildingUse(building("b402", "402", 300, 2), low.districts);
  REQUIRE(shop);
  CHECK(shop->rule == "use");
  CHECK(shop->verdict == Verdict::Unknown);
  CHECK(has(shop->reason, "non-conforming (may be 既存不適格)"));
  CHECK(has(shop->reason, "法3条第2項"));
  // The code's name (when the reader found the code list) maps the same.
  CHECK(rs.checkBuildingUse(building("b", "商業施設", 300, 2), low.districts)->verdict == Verdict::Unknown);
  // A 住宅 (411) there conforms: pass.
  auto house = rs.checkBuildingUse(building("b411", "411", 120, 2), low.districts);
  REQUIRE(house);
  CHECK(house->verdict == Verdict::Pass);
  CHECK(has(house->reason, "conforming"));
  // A 共同住宅 (412) in 工業専用 ((わ)項第3号): non-conforming, unknown.
  auto flats = rs.checkBuildingUse(building("b412", "412", 900, 4), siteIn("13").districts);
  CHECK(flats->verdict == Verdict::Unknown);
  CHECK(has(flats->reason, "non-conforming"));
  // A 商業施設 in 近隣商業: a shop may be built there, a キャバレー may not ((り)項第2号): the data does
  // not say which it is: unknown, not non-conforming.
  auto mixed = rs.checkBuildingUse(building("b", "402", 300, 2), siteIn("9").districts);
  CHECK(mixed->verdict == Verdict::Unknown);
  CHECK_FALSE(has(mixed->reason, "non-conforming"));
  // 店舗等併用共同住宅 (414) holds 共同住宅 and shops: in 工業専用 neither is allowed.
  CHECK(has(rs.checkBuildingUse(building("b", "414", 900, 4), siteIn("13").districts)->reason, "non-conforming"));
  // 不明 (461): no use can be told: unknown. No bldg:usage at all: no result.
  auto unknown = rs.checkBuildingUse(building("b", "461", 300, 2), low.districts);
  CHECK(unknown->verdict == Verdict::Unknown);
  CHECK(has(unknown->reason, "names no use"));
  CHECK_FALSE(rs.checkBuildingUse(building("b", "", 300, 2), low.districts));
  // In the per-building results of a check: present, and never a fail, for any code in any district.
  for (const char* code : {"401", "402", "403", "404", "411", "412", "413", "414", "415", "421", "422", "431", "441",
                           "451", "452", "453", "454", "461"})
    for (int d = 1; d <= 13; ++d) {
      Site s = siteIn(std::to_string(d));
      auto results = rs.check(building("b", code, 300, 2), s, s.districts);
      auto it = std::find_if(results.begin(), results.end(), [](auto& r) { return r.rule == "use"; });
      INFO(code << " in " << d);
      REQUIRE(it != results.end());
      CHECK(it->verdict != Verdict::Fail);
    }
}

TEST_CASE("用途制限: a municipality's rules file changes a cell; malformed entries name entry and key", "[landuse]") {
  // A municipality's copy allows 事務所 in 第一種低層 (say, by a 地区計画 it models this way).
  auto doc = nlohmann::json::parse(japanText(), nullptr, false, true);
  REQUIRE_FALSE(doc.is_discarded());
  for (auto& u : doc["uses"]["list"])
    if (u["id"] == "office")
      u["districts"]["1"] = {{"allowed", true}, {"limits", {{"useArea", {{"le", 500}}}}}, {"article", "市条例第3条"}};
  auto town = RuleSet::parse(doc.dump(), "town.json");
  REQUIRE(town.value);
  RuleSet national = rules();
  CHECK(national.checkUse(siteIn("1"), plan("事務所", 400, 2)).verdict == Verdict::Fail);
  auto r = town.value->checkUse(siteIn("1"), plan("事務所", 400, 2));
  CHECK(r.verdict == Verdict::Pass);
  CHECK(has(r.reason, "市条例第3条"));
  CHECK(town.value->checkUse(siteIn("1"), plan("事務所", 600, 2)).verdict == Verdict::Fail);
  // Through the CLI: the same file with --rules gives the same answer in `twin procedures`.
  std::string dir = tempDir("uses-town");
  writeText(dir + "/town.json", doc.dump());
  writeText(
      dir + "/p.geojson",
      "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:"
      "EPSG::6677\"}},\"features\":[{\"type\":\"Feature\",\"properties\":{\"地番\":\"8-1\"},\"geometry\":{\"type\":"
      "\"Polygon\",\"coordinates\":[[[-5000,-35000],[-4980,-35000],[-4980,-34980],[-5000,-34980],[-5000,-35000]]]}}"
      "]}");
  writeText(dir + "/z.geojson",
            "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:"
            "EPSG::6677\"}},\"features\":[{\"type\":\"Feature\",\"properties\":{\"id\":\"Z1\",\"function\":\"1\"},"
            "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[-5100,-35100],[-4900,-35100],[-4900,-34900],[-5100,"
            "-34900],[-5100,-35100]]]}}]}");
  std::string store = dir + "/s.gpkg";
  REQUIRE(runTwin("parcels import " + dir + "/p.geojson --store " + store + " -q").exitCode == 0);
  REQUIRE(runTwin("zoning import " + dir + "/z.geojson --store " + store + " -q").exitCode == 0);
  auto cli = [&](const std::string& rulesArg) {
    auto out = runTwin("procedures 8-1 --store " + store + rulesArg +
                       " --format json --plan use=事務所,floor_area=400,storeys=2");
    INFO(out.output);
    REQUIRE(out.exitCode == 0);
    auto j = nlohmann::json::parse(out.output.substr(out.output.find('{')), nullptr, false);
    REQUIRE(j.is_object());
    REQUIRE(j["checks"].size() == 1);
    CHECK(j["checks"][0]["rule"] == "use");
    return j["checks"][0]["verdict"].get<std::string>();
  };
  CHECK(cli("") == "fail");
  CHECK(cli(" --rules " + dir + "/town.json") == "pass");
  // The table output says it too, by id as well as by name.
  auto table = runTwin("procedures 8-1 --store " + store + " --plan use=office,floor_area=400");
  CHECK(has(table.output, "用途制限 use restriction"));

  // Malformed entries: each error names its entry and key, all at once.
  auto bad = nlohmann::json::parse(japanText(), nullptr, false, true);
  for (auto& u : bad["uses"]["list"]) {
    if (u["id"] == "office") {
      u["districts"]["4"]["allowed"] = "maybe";
      u["districts"]["5"]["limits"] = {{"floorSpace", {{"le", 3000}}}};
      u["districts"].erase("6");
      u["districts"]["99"] = {{"allowed", true}, {"article", "x"}};
    }
    if (u["id"] == "hotel") {
      u["districts"]["5"]["limits"]["useArea"] = {{"le", "3000 m²"}};
      u["districts"]["1"] = {{"allowed", "unknown"}, {"article", "別表第2(い)項"}};  // no reason
      u["name"] = "事務所";                                                          // names office already
    }
  }
  bad["uses"]["buildingUsage"]["411"]["anyOf"] = {"mansion"};
  auto parsed = RuleSet::parse(bad.dump(), "bad.json");
  CHECK_FALSE(parsed.value);
  std::string all;
  for (auto& d : parsed.diagnostics) {
    CHECK(d.code == "rules-invalid");
    CHECK(d.file == "bad.json");
    all += d.message + "\n";
  }
  INFO(all);
  CHECK(has(all, "uses.list.office.districts.4.allowed: must be true, false or \"unknown\""));
  CHECK(has(all, "uses.list.office.districts.5.limits.floorSpace: unknown limit"));
  CHECK(has(all, "uses.list.office.districts.6: missing"));
  CHECK(has(all, "uses.list.office.districts.99: not a code of districts.UseDistrict"));
  CHECK(has(all, "uses.list.hotel.districts.5.limits.useArea.le: must be a number"));
  CHECK(has(all, "uses.list.hotel.districts.1.reason: missing"));
  CHECK(has(all, "uses.list.hotel: the name '事務所' also names use 'office'"));
  CHECK(has(all, "uses.buildingUsage.411.anyOf[0]: unknown use 'mansion'"));
  CHECK(parsed.diagnostics.size() == 8);
  // A file without a uses section is still valid: the use check is then unknown.
  auto noUses = nlohmann::json::parse(japanText(), nullptr, false, true);
  noUses.erase("uses");
  auto bare = RuleSet::parse(noUses.dump(), "bare.json");
  REQUIRE(bare.value);
  auto none = bare.value->checkUse(siteIn("1"), plan("事務所", 400, 2));
  CHECK(none.verdict == Verdict::Unknown);
  CHECK(has(none.reason, "no uses section"));
}

TEST_CASE("用途制限 in twin check: an existing building's bldg:usage against its site's district", "[landuse]") {
  // A 20 × 20 m parcel in 第一種低層住居専用地域 with a 10 × 10 m, 2-storey 商業施設 (402) on it.
  std::string dir = tempDir("uses-check");
  std::string store = dir + "/s.gpkg";
  const std::string crs = "{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::6677\"}}";
  auto rect = [](double e0, double n0, double e1, double n1) {
    std::ostringstream o;
    o.precision(12);
    o << "{\"type\":\"Polygon\",\"coordinates\":[[[" << e0 << "," << n0 << "],[" << e1 << "," << n0 << "],[" << e1
      << "," << n1 << "],[" << e0 << "," << n1 << "],[" << e0 << "," << n0 << "]]]}";
    return o.str();
  };
  writeText(dir + "/p.geojson",
            "{\"type\":\"FeatureCollection\",\"crs\":" + crs +
                ",\"features\":[{\"type\":\"Feature\",\"properties\":{\"地番\":\"9-1\"},\"geometry\":" +
                rect(-5000, -35000, -4980, -34980) + "}]}");
  writeText(dir + "/z.geojson", "{\"type\":\"FeatureCollection\",\"crs\":" + crs +
                                    ",\"features\":[{\"type\":\"Feature\",\"properties\":{\"id\":\"Z1\",\"function\":"
                                    "\"1\",\"buildingCoverageRate\":0.5,\"floorAreaRate\":1.0},\"geometry\":" +
                                    rect(-5100, -35100, -4900, -34900) + "}]}");
  // posList in the CRS's order (X north, Y east); a box from z 5 to 11 m.
  auto P = [](double e, double n, double z) {
    char b[96];
    std::snprintf(b, sizeof b, "%.3f %.3f %.3f ", n, e, z);
    return std::string(b);
  };
  auto face = [&](std::vector<std::string> pts) {
    std::string s = "<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>";
    for (auto& p : pts) s += p;
    return s + pts[0] + "</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>\n";
  };
  double e0 = -4995, n0 = -34995, e1 = -4985, n1 = -34985, z0 = 5, z1 = 11;
  std::string faces = face({P(e0, n0, z0), P(e0, n1, z0), P(e1, n1, z0), P(e1, n0, z0)}) +
                      face({P(e0, n0, z1), P(e1, n0, z1), P(e1, n1, z1), P(e0, n1, z1)}) +
                      face({P(e0, n0, z0), P(e1, n0, z0), P(e1, n0, z1), P(e0, n0, z1)}) +
                      face({P(e1, n0, z0), P(e1, n1, z0), P(e1, n1, z1), P(e1, n0, z1)}) +
                      face({P(e1, n1, z0), P(e0, n1, z0), P(e0, n1, z1), P(e1, n1, z1)}) +
                      face({P(e0, n1, z0), P(e0, n0, z0), P(e0, n0, z1), P(e0, n1, z1)});
  std::string member =
      "<core:cityObjectMember><bldg:Building gml:id=\"shop402\"><bldg:usage>402</bldg:usage>"
      "<bldg:measuredHeight uom=\"m\">6</bldg:measuredHeight><bldg:storeysAboveGround>2</bldg:storeysAboveGround>"
      "<bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface>\n" +
      faces +
      "</gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod1Solid></bldg:Building></core:cityObjectMember>\n";
  writeText(dir + "/b.gml", cityModel(member, "http://www.opengis.net/def/crs/EPSG/0/6677"));
  REQUIRE(runTwin("parcels import " + dir + "/p.geojson --store " + store + " -q").exitCode == 0);
  REQUIRE(runTwin("zoning import " + dir + "/z.geojson --store " + store + " -q").exitCode == 0);
  auto imported = runTwin("buildings import " + dir + "/b.gml --store " + store + " -q");
  INFO(imported.output);
  REQUIRE(imported.exitCode == 0);
  {
    auto s = Store::open(store);
    auto b = s->building("shop402");
    REQUIRE(b);
    CHECK(b->usage == "402");
    RuleSet rs = rules();
    s->begin();
    auto c = checkBuilding(*s, rs, *b);
    s->commit();
    auto it = std::find_if(c.results.begin(), c.results.end(), [](auto& r) { return r.rule == "use"; });
    REQUIRE(it != c.results.end());
    CHECK(it->verdict == Verdict::Unknown);
    CHECK(has(it->reason, "non-conforming (may be 既存不適格)"));
    // The API's JSON of the building carries it.
    auto j = toJson(c);
    bool found = false;
    for (auto& r : j["results"])
      if (r["rule"] == "use") found = r["verdict"] == "unknown";
    CHECK(found);
  }
  auto r = runTwin("check --store " + store + " --format csv -o " + dir + "/r.csv");
  INFO(r.output);
  CHECK(r.exitCode == 0);
  std::string csv = readText(dir + "/r.csv");
  CHECK(has(csv, "non-conforming (may be 既存不適格)"));
  CHECK_FALSE(has(csv, ",use,用途制限 use restriction,fail"));
}
