BEGIN TRANSACTION;
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
INSERT INTO "_sqlite_migrations" VALUES(1,'respine','0001_initial','2026-12-04 00:09:59.751776+00:00');
INSERT INTO "_sqlite_migrations" VALUES(2,'respine','0002_worklist','2026-12-04 00:09:59.754671+00:00');
INSERT INTO "_sqlite_migrations" VALUES(3,'respine','0003_session_choices','2026-12-04 00:09:59.756888+00:00');
INSERT INTO "_sqlite_migrations" VALUES(4,'respine','0004_views','2026-12-04 00:09:59.758980+00:00');
CREATE TABLE answers (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    instrument_id TEXT NOT NULL,
    instrument_version TEXT NOT NULL,
    instrument_checksum TEXT NOT NULL,
    item_id TEXT NOT NULL,
    value REAL,
    status TEXT NOT NULL CHECK (status IN ('answered', 'skipped')),
    language TEXT NOT NULL,
    app_version TEXT NOT NULL,
    device_id TEXT NOT NULL,
    given_at TEXT NOT NULL,
    given_by TEXT,
    supersedes TEXT REFERENCES answers(id),
    reason TEXT,
    vas_line_mm REAL,
    CHECK ((status = 'answered') = (value IS NOT NULL))
);
INSERT INTO "answers" VALUES('01a23e62-eb85-7adf-87bf-090f3006cd55','01a23e62-eb4b-7777-bde2-187768002d55','vas','1.0','sha256:d4e68ecf66895b7d5333288d4f1cc59efe993ff40ea7fda9c3bbe63bef0f7e6b','vas_pain',42.5,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,100.1);
INSERT INTO "answers" VALUES('01a23e62-eb86-7a31-8d1b-20eda67d1bfa','01a23e62-eb4b-7777-bde2-187768002d55','vas','1.0','sha256:d4e68ecf66895b7d5333288d4f1cc59efe993ff40ea7fda9c3bbe63bef0f7e6b','vas_pain',40.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,'01a23e62-eb85-7adf-87bf-090f3006cd55',NULL,100.1);
INSERT INTO "answers" VALUES('01a23e62-eb87-73c5-9357-20500705e715','01a23e62-eb4b-7777-bde2-187768002d55','odi','ODI v2.1a','sha256:8c3791708962d1f09076e022115de8be55942b3da96f1ae542f54555a048366f','odi_01',2.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb87-7eb6-88da-210861a260f9','01a23e62-eb4b-7777-bde2-187768002d55','odi','ODI v2.1a','sha256:8c3791708962d1f09076e022115de8be55942b3da96f1ae542f54555a048366f','odi_02',2.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb87-7ac6-a02a-b2ed2f1c5468','01a23e62-eb4b-7777-bde2-187768002d55','odi','ODI v2.1a','sha256:8c3791708962d1f09076e022115de8be55942b3da96f1ae542f54555a048366f','odi_03',2.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb87-7c8d-8d70-0c4051e6803d','01a23e62-eb4b-7777-bde2-187768002d55','odi','ODI v2.1a','sha256:8c3791708962d1f09076e022115de8be55942b3da96f1ae542f54555a048366f','odi_04',2.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb87-761f-b0d3-ff7cb60147c8','01a23e62-eb4b-7777-bde2-187768002d55','odi','ODI v2.1a','sha256:8c3791708962d1f09076e022115de8be55942b3da96f1ae542f54555a048366f','odi_05',2.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb87-7f56-9d0c-80ac397cfc5d','01a23e62-eb4b-7777-bde2-187768002d55','odi','ODI v2.1a','sha256:8c3791708962d1f09076e022115de8be55942b3da96f1ae542f54555a048366f','odi_06',2.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7087-b837-866643182766','01a23e62-eb4b-7777-bde2-187768002d55','odi','ODI v2.1a','sha256:8c3791708962d1f09076e022115de8be55942b3da96f1ae542f54555a048366f','odi_07',2.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7ee5-9509-5247e43c08eb','01a23e62-eb4b-7777-bde2-187768002d55','odi','ODI v2.1a','sha256:8c3791708962d1f09076e022115de8be55942b3da96f1ae542f54555a048366f','odi_08',2.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-731f-8237-529466e2c2a7','01a23e62-eb4b-7777-bde2-187768002d55','odi','ODI v2.1a','sha256:8c3791708962d1f09076e022115de8be55942b3da96f1ae542f54555a048366f','odi_09',2.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7de9-b54b-8afcbcb03ab6','01a23e62-eb4b-7777-bde2-187768002d55','odi','ODI v2.1a','sha256:8c3791708962d1f09076e022115de8be55942b3da96f1ae542f54555a048366f','odi_10',2.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7d99-bb0e-afbf295d6221','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_01',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-796e-b71a-189be48b6218','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_02',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-79e3-afac-f23b96071dca','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_03',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-729d-bcd2-13d1cf114994','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_04',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-76e3-8968-1130d70bdfd1','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_05',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-70ff-80f4-74fadb6d56e1','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_06',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-70a0-8b38-2872111f7d5a','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_07',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-77ea-b981-356370aacbb8','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_08',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7aa1-8a05-82c2d9821bb8','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_09',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-79e1-b493-d098f683b5aa','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_10',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7ca6-a531-5b61d83b913c','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_11',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7822-9e0c-07eca46736b8','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_12',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-73ab-a388-02ba9c113ecb','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_13',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-77f0-b655-07ee192c6cbf','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_14',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-773b-93c9-67595e5ccb19','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_15',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7fa8-a637-d5578f700e19','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_16',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-70ff-ab45-cf6e6b63bfde','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_17',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7f91-8939-9fb71cfff4d6','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_18',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7857-b01a-73ee6f743c71','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_19',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7d37-bbd1-5648ff0d0e5b','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_20',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-73cb-8a67-c07e3054bbc2','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_21',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7c07-9e2e-89e10c387a95','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_22',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7cba-ae5a-9ef10bdf76b4','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_23',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7594-a003-5f6c6049131a','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_24',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-72a5-acbd-d83c32781471','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_25',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-78ce-b5e5-1469fb373008','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_26',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7ecb-85be-801db125dc11','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_27',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-728a-a4e4-7720499dfa58','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_28',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-718d-a2cc-2fda5ef51297','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_29',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7f8c-8b9e-54ec092e335a','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_30',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-775f-bc0a-147394f72cbd','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_31',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-77e5-af07-5d4e9c82f147','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_32',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7583-b260-c9f45e44bf01','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_33',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-70e8-a39f-dd905e7d0918','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_34',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-7c02-a28c-d68a0ca854be','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_35',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
INSERT INTO "answers" VALUES('01a23e62-eb88-784b-9bcd-4af7018c80c7','01a23e62-eb4b-7777-bde2-187768002d55','sf36','RAND-36 1.0','sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e','sf36_36',1.0,'answered','en','0.1.0','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z',NULL,NULL,NULL,NULL);
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 1),
    at TEXT NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    subject_id TEXT,
    entity TEXT NOT NULL,
    entity_id TEXT,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (device_id, seq)
);
INSERT INTO "audit_log" VALUES('01a23e62-eacf-77e8-b1a2-0ff1bd3dd9b8','01a23e62-eab7-71b2-8fca-c17998c05ccf',1,'2026-03-02T09:30:00.000Z',NULL,'database.created',NULL,'database','01a23e62-eab7-71b2-8fca-c17998c05ccf','{"app_version":"0.1.0","device_label":"kiosk","site_code":"01","study_id":"RESPINE"}','0000000000000000000000000000000000000000000000000000000000000000','59183d9ea2632534dcb4fe36b662ebe0901d8e4a852a90589f538462a452309e');
INSERT INTO "audit_log" VALUES('01a23e62-eacf-7e81-aa44-ed85f69b3f86','01a23e62-eab7-71b2-8fca-c17998c05ccf',2,'2026-03-02T09:30:00.000Z',NULL,'staff.created',NULL,'staff','01a23e62-eacf-7eea-a5f3-8160f939724e','{"role":"admin","username":"admin"}','59183d9ea2632534dcb4fe36b662ebe0901d8e4a852a90589f538462a452309e','6ecae208451289ae950cf1bb090447814a6b66e78834b8cdc6e152b139dee862');
INSERT INTO "audit_log" VALUES('01a23e62-eb1c-7971-a32e-e5b1a0d19f2e','01a23e62-eab7-71b2-8fca-c17998c05ccf',3,'2026-03-02T09:30:00.000Z','01a23e62-eacf-7eea-a5f3-8160f939724e','login.succeeded',NULL,'staff','01a23e62-eacf-7eea-a5f3-8160f939724e','{"username":"admin"}','6ecae208451289ae950cf1bb090447814a6b66e78834b8cdc6e152b139dee862','468ede74868b7b27a49e7d4651f48ba0a8e7cf589696e0894f8358857f1b1e02');
INSERT INTO "audit_log" VALUES('01a23e62-eb49-77c9-a65d-72592ba8718c','01a23e62-eab7-71b2-8fca-c17998c05ccf',4,'2026-03-02T09:30:00.000Z','01a23e62-eacf-7eea-a5f3-8160f939724e','staff.created',NULL,'staff','01a23e62-eb49-72c4-a1fa-f3122877ca14','{"role":"coordinator","username":"coord"}','468ede74868b7b27a49e7d4651f48ba0a8e7cf589696e0894f8358857f1b1e02','00512c8282b4c02f131931aae167cd7d69fde11f04ad1a93f4245135fa217404');
INSERT INTO "audit_log" VALUES('01a23e62-eb4a-7b64-b3d0-a5e6e7a89512','01a23e62-eab7-71b2-8fca-c17998c05ccf',5,'2026-03-02T09:30:00.000Z','01a23e62-eb49-72c4-a1fa-f3122877ca14','subject.registered','01a23e62-eb4a-76e4-b49f-bae8d411a523','subject','01a23e62-eb4a-76e4-b49f-bae8d411a523','{"code":"RSP-01-001","day0":"2026-03-02","site_code":"01","year_of_birth":null}','00512c8282b4c02f131931aae167cd7d69fde11f04ad1a93f4245135fa217404','a177d062b9d70985900203d61faede7bdd5487ad9a6dbdd8ef331f208cb2a849');
INSERT INTO "audit_log" VALUES('01a23e62-eb4c-7ed2-89b7-822999e54e1e','01a23e62-eab7-71b2-8fca-c17998c05ccf',6,'2026-03-02T09:30:00.000Z','01a23e62-eb49-72c4-a1fa-f3122877ca14','session.started','01a23e62-eb4a-76e4-b49f-bae8d411a523','session','01a23e62-eb4b-7777-bde2-187768002d55','{"device_id":"01a23e62-eab7-71b2-8fca-c17998c05ccf","on":"2026-03-02","out_of_window":false,"status_before":"due","visit":"M0"}','a177d062b9d70985900203d61faede7bdd5487ad9a6dbdd8ef331f208cb2a849','1edb3c2023339856e416dacd1ada73a443a874f57c78d1fca9b2b72d75230474');
INSERT INTO "audit_log" VALUES('01a23e62-eb86-706b-9ddb-cf72ec8737b2','01a23e62-eab7-71b2-8fca-c17998c05ccf',7,'2026-03-02T09:30:00.000Z',NULL,'answer.recorded','01a23e62-eb4a-76e4-b49f-bae8d411a523','answer','01a23e62-eb85-7adf-87bf-090f3006cd55','{"answers":[["01a23e62-eb85-7adf-87bf-090f3006cd55","vas_pain",42.5]],"digest":"8fc927cc4c92e4ee8df4507b1a73d5813a48dd0c1f19e5accae3ab5c075e589a","session_id":"01a23e62-eb4b-7777-bde2-187768002d55"}','1edb3c2023339856e416dacd1ada73a443a874f57c78d1fca9b2b72d75230474','d100e821c7286d2a6b593b9345c4eb6958181ffa02e355e9a2fc9a4996219aa5');
INSERT INTO "audit_log" VALUES('01a23e62-eb87-741e-96ae-116db85c23e0','01a23e62-eab7-71b2-8fca-c17998c05ccf',8,'2026-03-02T09:30:00.000Z',NULL,'answer.recorded','01a23e62-eb4a-76e4-b49f-bae8d411a523','answer','01a23e62-eb86-7a31-8d1b-20eda67d1bfa','{"answers":[["01a23e62-eb86-7a31-8d1b-20eda67d1bfa","vas_pain",40.0]],"digest":"5598d212f46ea61b3681f7cf93402257cb1a6e40a0ea7f79da38f8ae4da57158","session_id":"01a23e62-eb4b-7777-bde2-187768002d55"}','d100e821c7286d2a6b593b9345c4eb6958181ffa02e355e9a2fc9a4996219aa5','42b87d37fbfa184ac590baf161446815a6e32552ad4ae935e64b32586db525ec');
INSERT INTO "audit_log" VALUES('01a23e62-eb88-786a-9a9c-531096a1b18b','01a23e62-eab7-71b2-8fca-c17998c05ccf',9,'2026-03-02T09:30:00.000Z',NULL,'answer.recorded','01a23e62-eb4a-76e4-b49f-bae8d411a523','answer','01a23e62-eb4b-7777-bde2-187768002d55','{"answers":[["01a23e62-eb87-73c5-9357-20500705e715","odi_01",2.0],["01a23e62-eb87-7eb6-88da-210861a260f9","odi_02",2.0],["01a23e62-eb87-7ac6-a02a-b2ed2f1c5468","odi_03",2.0],["01a23e62-eb87-7c8d-8d70-0c4051e6803d","odi_04",2.0],["01a23e62-eb87-761f-b0d3-ff7cb60147c8","odi_05",2.0],["01a23e62-eb87-7f56-9d0c-80ac397cfc5d","odi_06",2.0],["01a23e62-eb88-7087-b837-866643182766","odi_07",2.0],["01a23e62-eb88-7ee5-9509-5247e43c08eb","odi_08",2.0],["01a23e62-eb88-731f-8237-529466e2c2a7","odi_09",2.0],["01a23e62-eb88-7de9-b54b-8afcbcb03ab6","odi_10",2.0],["01a23e62-eb88-7d99-bb0e-afbf295d6221","sf36_01",1.0],["01a23e62-eb88-796e-b71a-189be48b6218","sf36_02",1.0],["01a23e62-eb88-79e3-afac-f23b96071dca","sf36_03",1.0],["01a23e62-eb88-729d-bcd2-13d1cf114994","sf36_04",1.0],["01a23e62-eb88-76e3-8968-1130d70bdfd1","sf36_05",1.0],["01a23e62-eb88-70ff-80f4-74fadb6d56e1","sf36_06",1.0],["01a23e62-eb88-70a0-8b38-2872111f7d5a","sf36_07",1.0],["01a23e62-eb88-77ea-b981-356370aacbb8","sf36_08",1.0],["01a23e62-eb88-7aa1-8a05-82c2d9821bb8","sf36_09",1.0],["01a23e62-eb88-79e1-b493-d098f683b5aa","sf36_10",1.0],["01a23e62-eb88-7ca6-a531-5b61d83b913c","sf36_11",1.0],["01a23e62-eb88-7822-9e0c-07eca46736b8","sf36_12",1.0],["01a23e62-eb88-73ab-a388-02ba9c113ecb","sf36_13",1.0],["01a23e62-eb88-77f0-b655-07ee192c6cbf","sf36_14",1.0],["01a23e62-eb88-773b-93c9-67595e5ccb19","sf36_15",1.0],["01a23e62-eb88-7fa8-a637-d5578f700e19","sf36_16",1.0],["01a23e62-eb88-70ff-ab45-cf6e6b63bfde","sf36_17",1.0],["01a23e62-eb88-7f91-8939-9fb71cfff4d6","sf36_18",1.0],["01a23e62-eb88-7857-b01a-73ee6f743c71","sf36_19",1.0],["01a23e62-eb88-7d37-bbd1-5648ff0d0e5b","sf36_20",1.0],["01a23e62-eb88-73cb-8a67-c07e3054bbc2","sf36_21",1.0],["01a23e62-eb88-7c07-9e2e-89e10c387a95","sf36_22",1.0],["01a23e62-eb88-7cba-ae5a-9ef10bdf76b4","sf36_23",1.0],["01a23e62-eb88-7594-a003-5f6c6049131a","sf36_24",1.0],["01a23e62-eb88-72a5-acbd-d83c32781471","sf36_25",1.0],["01a23e62-eb88-78ce-b5e5-1469fb373008","sf36_26",1.0],["01a23e62-eb88-7ecb-85be-801db125dc11","sf36_27",1.0],["01a23e62-eb88-728a-a4e4-7720499dfa58","sf36_28",1.0],["01a23e62-eb88-718d-a2cc-2fda5ef51297","sf36_29",1.0],["01a23e62-eb88-7f8c-8b9e-54ec092e335a","sf36_30",1.0],["01a23e62-eb88-775f-bc0a-147394f72cbd","sf36_31",1.0],["01a23e62-eb88-77e5-af07-5d4e9c82f147","sf36_32",1.0],["01a23e62-eb88-7583-b260-c9f45e44bf01","sf36_33",1.0],["01a23e62-eb88-70e8-a39f-dd905e7d0918","sf36_34",1.0],["01a23e62-eb88-7c02-a28c-d68a0ca854be","sf36_35",1.0],["01a23e62-eb88-784b-9bcd-4af7018c80c7","sf36_36",1.0]],"digest":"0dbaac38da06e69813e1bfb15d85f11a9cda911b2bdc86d7ccf8541fa9a264df","session_id":"01a23e62-eb4b-7777-bde2-187768002d55"}','42b87d37fbfa184ac590baf161446815a6e32552ad4ae935e64b32586db525ec','aab8fea03a9662ce31a77adcea46efc5f01dc831d6759d5aebec7bc19f14a373');
INSERT INTO "audit_log" VALUES('01a23e62-eba3-7e20-a25d-0eca7df0f69a','01a23e62-eab7-71b2-8fca-c17998c05ccf',10,'2026-03-02T09:30:00.000Z',NULL,'session.submitted','01a23e62-eb4a-76e4-b49f-bae8d411a523','session','01a23e62-eb4b-7777-bde2-187768002d55','{"actual_date":"2026-03-02","auto_skipped":[],"scores":{"odi":{"default":{"ODI":40.0,"answered":10}},"sf36":{"rand":{"BP":100.0,"GH":60.0,"HT":100.0,"MH":40.0,"PF":0.0,"RE":0.0,"RP":0.0,"SF":50.0,"VT":50.0},"standard":{"BP":100.0,"GH":60.0,"MCS":35.171893313527626,"MH":40.0,"PCS":36.6579249691744,"PF":0.0,"RE":0.0,"RP":0.0,"SF":50.0,"VT":50.0}},"vas":{"default":{"VAS":40.0}}},"scoring_version":"respine-scoring 1.0","visit":"M0"}','aab8fea03a9662ce31a77adcea46efc5f01dc831d6759d5aebec7bc19f14a373','b14d460abe61cfdb35fec4879368a60a8d01b071a6fbf0c01bd23434d29fa934');
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    site_code TEXT REFERENCES sites(code),
    registered_at TEXT NOT NULL,
    -- head of this device's audit chain, so that removing the last entries is detected
    audit_seq INTEGER NOT NULL DEFAULT 0,
    audit_head TEXT NOT NULL
);
INSERT INTO "devices" VALUES('01a23e62-eab7-71b2-8fca-c17998c05ccf','kiosk','01','2026-03-02T09:30:00.000Z',10,'b14d460abe61cfdb35fec4879368a60a8d01b071a6fbf0c01bd23434d29fa934');
CREATE TABLE scores (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    instrument_id TEXT NOT NULL,
    method TEXT NOT NULL,
    scores TEXT NOT NULL,
    scoring_version TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    computed_by TEXT,
    device_id TEXT NOT NULL,
    superseded_at TEXT,
    superseded_by TEXT REFERENCES scores(id)
);
INSERT INTO "scores" VALUES('01a23e62-eb8a-731e-bd65-f2449b9a02be','01a23e62-eb4b-7777-bde2-187768002d55','vas','default','{"VAS":40.0}','respine-scoring 1.0','2026-03-02T09:30:00.000Z',NULL,'01a23e62-eab7-71b2-8fca-c17998c05ccf',NULL,NULL);
INSERT INTO "scores" VALUES('01a23e62-eb8a-7bf4-a2f9-e3740bb2de5b','01a23e62-eb4b-7777-bde2-187768002d55','odi','default','{"ODI":40.0,"answered":10.0}','respine-scoring 1.0','2026-03-02T09:30:00.000Z',NULL,'01a23e62-eab7-71b2-8fca-c17998c05ccf',NULL,NULL);
INSERT INTO "scores" VALUES('01a23e62-eba3-7928-9440-6e20a846a5a6','01a23e62-eb4b-7777-bde2-187768002d55','sf36','standard','{"BP":100.0,"GH":60.0,"MCS":35.171893313527626,"MH":40.0,"PCS":36.6579249691744,"PF":0.0,"RE":0.0,"RP":0.0,"SF":50.0,"VT":50.0}','respine-scoring 1.0','2026-03-02T09:30:00.000Z',NULL,'01a23e62-eab7-71b2-8fca-c17998c05ccf',NULL,NULL);
INSERT INTO "scores" VALUES('01a23e62-eba3-73d3-8a30-40591256e2c6','01a23e62-eb4b-7777-bde2-187768002d55','sf36','rand','{"BP":100.0,"GH":60.0,"HT":100.0,"MH":40.0,"PF":0.0,"RE":0.0,"RP":0.0,"SF":50.0,"VT":50.0}','respine-scoring 1.0','2026-03-02T09:30:00.000Z',NULL,'01a23e62-eab7-71b2-8fca-c17998c05ccf',NULL,NULL);
CREATE TABLE session_choices (
    id TEXT PRIMARY KEY,
    visit_id TEXT NOT NULL REFERENCES visits(id),
    session_id TEXT NOT NULL REFERENCES sessions(id),
    chosen_at TEXT NOT NULL,
    chosen_by TEXT NOT NULL,
    device_id TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (trim(reason) <> '')
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    visit_id TEXT NOT NULL REFERENCES visits(id),
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    visit_code TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_progress', 'parked', 'submitted')),
    position INTEGER NOT NULL DEFAULT 0,
    language TEXT,
    device_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    started_by TEXT,
    parked_at TEXT,
    parked_by TEXT,
    resumed_at TEXT,
    resumed_by TEXT,
    submitted_at TEXT,
    submitted_by TEXT
);
INSERT INTO "sessions" VALUES('01a23e62-eb4b-7777-bde2-187768002d55','7f18fc9f-7873-57b9-9422-dd3ec536a90a','01a23e62-eb4a-76e4-b49f-bae8d411a523','M0','submitted',0,'en','01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z','01a23e62-eb49-72c4-a1fa-f3122877ca14',NULL,NULL,NULL,NULL,'2026-03-02T09:30:00.000Z',NULL);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO "settings" VALUES('study_id','RESPINE');
INSERT INTO "settings" VALUES('site_code','01');
INSERT INTO "settings" VALUES('device_id','01a23e62-eab7-71b2-8fca-c17998c05ccf');
INSERT INTO "settings" VALUES('app_version','0.1.0');
INSERT INTO "settings" VALUES('created_at','2026-03-02T09:30:00.000Z');
CREATE TABLE sites (
    code TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
INSERT INTO "sites" VALUES('01','2026-03-02T09:30:00.000Z');
CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'investigator', 'coordinator')),
    pin_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT
);
INSERT INTO "staff" VALUES('01a23e62-eacf-7eea-a5f3-8160f939724e','admin','admin','scrypt$16384$8$1$j/4IFXSiPZ9s9sjZTGyF+Q==$A20FkBxwG/E8mG4O+3HXFFkGbgAu5MPMUlhseSvyUkk=',1,0,NULL,'2026-03-02T09:30:00.000Z',NULL);
INSERT INTO "staff" VALUES('01a23e62-eb49-72c4-a1fa-f3122877ca14','coord','coordinator','scrypt$16384$8$1$8sT+FD5D+irt8OyHSYI12g==$VZ3nAJuQGlmEnhKkiZvSKKJ2LvhLUb20a9ICb4rZsJI=',1,0,NULL,'2026-03-02T09:30:00.000Z','01a23e62-eacf-7eea-a5f3-8160f939724e');
CREATE TABLE subjects (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    site_code TEXT NOT NULL REFERENCES sites(code),
    day0 TEXT NOT NULL,
    year_of_birth INTEGER,
    device_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT
, visits_started TEXT NOT NULL DEFAULT ',');
INSERT INTO "subjects" VALUES('01a23e62-eb4a-76e4-b49f-bae8d411a523','RSP-01-001','01','2026-03-02',NULL,'01a23e62-eab7-71b2-8fca-c17998c05ccf','2026-03-02T09:30:00.000Z','01a23e62-eb49-72c4-a1fa-f3122877ca14',',M0,');
CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    visit_code TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_progress', 'parked', 'complete', 'missed')),
    actual_date TEXT,
    missed_reason TEXT,
    updated_at TEXT NOT NULL, session_id TEXT,
    UNIQUE (subject_id, visit_code)
);
INSERT INTO "visits" VALUES('7f18fc9f-7873-57b9-9422-dd3ec536a90a','01a23e62-eb4a-76e4-b49f-bae8d411a523','M0','complete','2026-03-02',NULL,'2026-03-02T09:30:00.000Z','01a23e62-eb4b-7777-bde2-187768002d55');
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
CREATE INDEX subjects_site_code ON subjects(site_code, code);
CREATE INDEX sessions_visit ON sessions(visit_id);
CREATE INDEX sessions_subject ON sessions(subject_id);
CREATE INDEX sessions_open ON sessions(state) WHERE state != 'submitted';
CREATE INDEX answers_session_item ON answers(session_id, item_id);
CREATE INDEX answers_supersedes ON answers(supersedes) WHERE supersedes IS NOT NULL;
CREATE INDEX scores_session ON scores(session_id);
CREATE INDEX audit_subject ON audit_log(subject_id) WHERE subject_id IS NOT NULL;
CREATE INDEX subjects_worklist ON subjects(site_code, day0, visits_started);
CREATE INDEX visits_open ON visits(state) WHERE state IN ('in_progress', 'parked');
CREATE INDEX session_choices_visit ON session_choices(visit_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END;
CREATE TRIGGER answers_no_update BEFORE UPDATE ON answers
BEGIN SELECT RAISE(ABORT, 'answers are append-only: UPDATE refused'); END;
CREATE TRIGGER answers_no_delete BEFORE DELETE ON answers
BEGIN SELECT RAISE(ABORT, 'answers are append-only: DELETE refused'); END;
CREATE TRIGGER visits_started AFTER INSERT ON visits
BEGIN
    UPDATE subjects SET visits_started = visits_started || NEW.visit_code || ','
    WHERE id = NEW.subject_id;
END;
CREATE TRIGGER session_choices_no_update BEFORE UPDATE ON session_choices
BEGIN SELECT RAISE(ABORT, 'session_choices are append-only: UPDATE refused'); END;
CREATE TRIGGER session_choices_no_delete BEFORE DELETE ON session_choices
BEGIN SELECT RAISE(ABORT, 'session_choices are append-only: DELETE refused'); END;
CREATE VIEW reviewed_sessions AS
SELECT x.rowid AS rowid, x.*, (
    x.id IS (
        SELECT c.session_id FROM session_choices c WHERE c.visit_id = x.visit_id
        ORDER BY c.chosen_at DESC, c.rowid DESC LIMIT 1
    )
) AS chosen_by_review
FROM sessions x;
CREATE VIEW chosen_sessions AS
SELECT v.id AS visit_id, (
    SELECT x.id FROM reviewed_sessions x WHERE x.visit_id = v.id
    ORDER BY x.chosen_by_review DESC, x.state = 'submitted' DESC, x.submitted_at DESC,
        x.started_at DESC, x.id DESC
    LIMIT 1
) AS session_id
FROM visits v;
COMMIT;
