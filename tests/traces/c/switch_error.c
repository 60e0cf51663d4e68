// ERROR: 3:1: unsupported construct 'switch'
MigChannelType channel = CH_NONE;
switch (migrate_multifd()) {
case 1: channel = CH_MULTIFD; break;
}
