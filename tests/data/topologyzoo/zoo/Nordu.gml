graph [
  DateObtained "22/10/10"
  GeoLocation "Europe"
  GeoExtent "Continent"
  Network "NORDU"
  Provenance "Primary"
  Note "CERT + NEWS + DNS"
  Source "http://stats.nordu.net/stat-q/load-map/ndn-map,,traffic,peak"
  Version "1.0"
  Type "REN"
  Backbone 1
  Commercial 0
  label "NORDU"
  Customer 0
  LastAccess "21/10/10"
  Access 0
  Layer "IP"
  Classification "Backbone Customer? Transit?"
  Creator "Topology Zoo Toolset"
  Developed "developed"
  Transit 0
  NetworkDate "D"
  Testbed 0
  SvnVersion 8123
  node [
    id 0
    label "RHnet"
    Internal 1
  ]
  node [
    id 1
    label "REY"
    Internal 1
  ]
  node [
    id 2
    label "HEX"
    Internal 1
  ]
  node [
    id 3
    label "RIX"
    Internal 0
  ]
  node [
    id 4
    label "MAN"
    Internal 1
  ]
  node [
    id 5
    label "NYIIX"
    Internal 0
  ]
  node [
    id 6
    label "MANLAN"
    Internal 0
  ]
  node [
    id 7
    label "SAR"
    Internal 1
  ]
  node [
    id 8
    label "UNI"
    Internal 1
  ]
  node [
    id 9
    label "GEANT"
    Internal 0
  ]
  node [
    id 10
    label "SURFNET"
    Internal 0
  ]
  node [
    id 11
    label "KAUST"
    Internal 0
  ]
  node [
    id 12
    label "AMSIX"
    Internal 0
  ]
  node [
    id 13
    label "FSKNet"
    Internal 1
  ]
  node [
    id 14
    label "ORE"
    Internal 1
  ]
  node [
    id 15
    label "NDGF"
    Internal 1
  ]
  node [
    id 16
    label "FUNET"
    Internal 1
  ]
  node [
    id 17
    label "FRE"
    Internal 1
  ]
  node [
    id 18
    label "TUG"
    Internal 1
  ]
  node [
    id 19
    label "UNINETT"
    Internal 1
  ]
  node [
    id 20
    label "SUNET"
    Internal 1
  ]
  node [
    id 21
    label "TInet"
    Internal 0
  ]
  node [
    id 22
    label "DIX"
    Internal 0
  ]
  node [
    id 23
    label "RBNET"
    Internal 0
  ]
  node [
    id 24
    label "RUNNET"
    Internal 0
  ]
  node [
    id 25
    label "Netnod-8"
    Internal 0
  ]
  node [
    id 26
    label "TeliaSonera"
    Internal 0
  ]
  node [
    id 27
    label "TeliaSonera"
    Internal 0
  ]
  node [
    id 28
    label "Google"
    Internal 0
  ]
  node [
    id 29
    label "Netnod-A"
    Internal 0
  ]
  node [
    id 30
    label "Telia -SE"
    Internal 0
  ]
  node [
    id 31
    label "Verizon-EU"
    Internal 0
  ]
  node [
    id 32
    label "NIX"
    Internal 0
  ]
  edge [
    source 0
    target 1
  ]
  edge [
    source 0
    target 1
  ]
  edge [
    source 0
    target 1
  ]
  edge [
    source 1
    target 8
  ]
  edge [
    source 1
    target 2
  ]
  edge [
    source 1
    target 3
  ]
  edge [
    source 1
    target 4
  ]
  edge [
    source 2
    target 14
  ]
  edge [
    source 2
    target 7
  ]
  edge [
    source 4
    target 14
  ]
  edge [
    source 4
    target 5
  ]
  edge [
    source 4
    target 6
  ]
  edge [
    source 7
    target 8
  ]
  edge [
    source 7
    target 11
  ]
  edge [
    source 7
    target 12
  ]
  edge [
    source 7
    target 10
  ]
  edge [
    source 8
    target 9
  ]
  edge [
    source 8
    target 13
  ]
  edge [
    source 8
    target 14
  ]
  edge [
    source 8
    target 18
  ]
  edge [
    source 8
    target 19
  ]
  edge [
    source 8
    target 21
  ]
  edge [
    source 8
    target 22
  ]
  edge [
    source 9
    target 14
  ]
  edge [
    source 13
    target 14
  ]
  edge [
    source 14
    target 15
  ]
  edge [
    source 14
    target 17
  ]
  edge [
    source 14
    target 18
  ]
  edge [
    source 16
    target 17
  ]
  edge [
    source 16
    target 18
  ]
  edge [
    source 17
    target 18
  ]
  edge [
    source 17
    target 20
  ]
  edge [
    source 17
    target 25
  ]
  edge [
    source 17
    target 26
  ]
  edge [
    source 18
    target 32
  ]
  edge [
    source 18
    target 19
  ]
  edge [
    source 18
    target 20
  ]
  edge [
    source 18
    target 20
  ]
  edge [
    source 18
    target 23
  ]
  edge [
    source 18
    target 24
  ]
  edge [
    source 18
    target 27
  ]
  edge [
    source 18
    target 28
  ]
  edge [
    source 18
    target 29
  ]
  edge [
    source 18
    target 30
  ]
  edge [
    source 18
    target 31
  ]
]
