<?xml version="1.0" encoding="UTF-8"?>
<!-- Made for twin's tests (not real data): two PLATEAU-style LOD1 buildings near Yokosuka.
     The first carries an object of an Application Domain Extension twin does not know
     (test:BuildingUnit with its own solid), an ADE attribute, an ADE property holding only
     geometry, and PLATEAU's "unknown" conventions: measuredHeight and totalFloorArea -9999,
     storeys 9999, and a LOD1 block of the uniform 3 m (uro:lod1HeightType 0). The second has an
     estimated LOD1 height (uro:lod1HeightType 9: 3 m per storey) and no measured height. -->
<core:CityModel xmlns:core="http://www.opengis.net/citygml/2.0" xmlns:bldg="http://www.opengis.net/citygml/building/2.0"
  xmlns:gml="http://www.opengis.net/gml" xmlns:uro="https://www.geospatial.jp/iur/uro/3.1"
  xmlns:test="http://www.example.org/citygml/test-ade/1.0">
<gml:boundedBy><gml:Envelope srsName="http://www.opengis.net/def/crs/EPSG/0/6697" srsDimension="3">
<gml:lowerCorner>35.259 139.738 0</gml:lowerCorner><gml:upperCorner>35.261 139.740 20</gml:upperCorner></gml:Envelope></gml:boundedBy>
<core:cityObjectMember>
<bldg:Building gml:id="bldg_ade_1">
<bldg:measuredHeight uom="m">-9999</bldg:measuredHeight>
<bldg:storeysAboveGround>9999</bldg:storeysAboveGround>
<test:energyDemand uom="kWh">1234.5</test:energyDemand>
<test:footprintExtra><gml:MultiSurface><gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259600000 139.738900000 5.0 35.259600000 139.739010323 5.0 35.259690090 139.739010323 5.0 35.259690090 139.738900000 5.0 35.259600000 139.738900000 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember></gml:MultiSurface></test:footprintExtra>
<bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259690090 139.738900000 5.0 35.259690090 139.739010323 5.0 35.259600000 139.739010323 5.0 35.259600000 139.738900000 5.0 35.259690090 139.738900000 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259600000 139.738900000 8.0 35.259600000 139.739010323 8.0 35.259690090 139.739010323 8.0 35.259690090 139.738900000 8.0 35.259600000 139.738900000 8.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259600000 139.738900000 5.0 35.259600000 139.739010323 5.0 35.259600000 139.739010323 8.0 35.259600000 139.738900000 8.0 35.259600000 139.738900000 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259600000 139.739010323 5.0 35.259690090 139.739010323 5.0 35.259690090 139.739010323 8.0 35.259600000 139.739010323 8.0 35.259600000 139.739010323 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259690090 139.739010323 5.0 35.259690090 139.738900000 5.0 35.259690090 139.738900000 8.0 35.259690090 139.739010323 8.0 35.259690090 139.739010323 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259690090 139.738900000 5.0 35.259600000 139.738900000 5.0 35.259600000 139.738900000 8.0 35.259690090 139.738900000 8.0 35.259690090 139.738900000 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
</gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod1Solid>
<test:buildingUnit><test:BuildingUnit gml:id="unit_1"><test:unitName>Unit A</test:unitName>
<test:lod2Solid><gml:Solid><gml:exterior><gml:CompositeSurface>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259690090 139.738900000 5.0 35.259690090 139.739010323 5.0 35.259600000 139.739010323 5.0 35.259600000 139.738900000 5.0 35.259690090 139.738900000 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259600000 139.738900000 7.5 35.259600000 139.739010323 7.5 35.259690090 139.739010323 7.5 35.259690090 139.738900000 7.5 35.259600000 139.738900000 7.5</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259600000 139.738900000 5.0 35.259600000 139.739010323 5.0 35.259600000 139.739010323 7.5 35.259600000 139.738900000 7.5 35.259600000 139.738900000 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259600000 139.739010323 5.0 35.259690090 139.739010323 5.0 35.259690090 139.739010323 7.5 35.259600000 139.739010323 7.5 35.259600000 139.739010323 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259690090 139.739010323 5.0 35.259690090 139.738900000 5.0 35.259690090 139.738900000 7.5 35.259690090 139.739010323 7.5 35.259690090 139.739010323 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259690090 139.738900000 5.0 35.259600000 139.738900000 5.0 35.259600000 139.738900000 7.5 35.259690090 139.738900000 7.5 35.259690090 139.738900000 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
</gml:CompositeSurface></gml:exterior></gml:Solid></test:lod2Solid></test:BuildingUnit></test:buildingUnit>
<uro:buildingDetailAttribute><uro:BuildingDetailAttribute><uro:totalFloorArea uom="m2">-9999</uro:totalFloorArea><uro:surveyYear>2022</uro:surveyYear></uro:BuildingDetailAttribute></uro:buildingDetailAttribute>
<uro:buildingDataQualityAttribute><uro:BuildingDataQualityAttribute><uro:lod1HeightType codeSpace="../../codelists/BuildingDataQualityAttribute_lod1HeightType.xml">0</uro:lod1HeightType></uro:BuildingDataQualityAttribute></uro:buildingDataQualityAttribute>
</bldg:Building>
</core:cityObjectMember>
<core:cityObjectMember>
<bldg:Building gml:id="bldg_ade_2">
<bldg:storeysAboveGround>2</bldg:storeysAboveGround>
<bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259990090 139.738900000 5.0 35.259990090 139.739010323 5.0 35.259900000 139.739010323 5.0 35.259900000 139.738900000 5.0 35.259990090 139.738900000 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259900000 139.738900000 11.0 35.259900000 139.739010323 11.0 35.259990090 139.739010323 11.0 35.259990090 139.738900000 11.0 35.259900000 139.738900000 11.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259900000 139.738900000 5.0 35.259900000 139.739010323 5.0 35.259900000 139.739010323 11.0 35.259900000 139.738900000 11.0 35.259900000 139.738900000 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259900000 139.739010323 5.0 35.259990090 139.739010323 5.0 35.259990090 139.739010323 11.0 35.259900000 139.739010323 11.0 35.259900000 139.739010323 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259990090 139.739010323 5.0 35.259990090 139.738900000 5.0 35.259990090 139.738900000 11.0 35.259990090 139.739010323 11.0 35.259990090 139.739010323 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>35.259990090 139.738900000 5.0 35.259900000 139.738900000 5.0 35.259900000 139.738900000 11.0 35.259990090 139.738900000 11.0 35.259990090 139.738900000 5.0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
</gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod1Solid>
<uro:buildingDataQualityAttribute><uro:BuildingDataQualityAttribute><uro:lod1HeightType codeSpace="../../codelists/BuildingDataQualityAttribute_lod1HeightType.xml">9</uro:lod1HeightType></uro:BuildingDataQualityAttribute></uro:buildingDataQualityAttribute>
</bldg:Building>
</core:cityObjectMember>
</core:CityModel>
