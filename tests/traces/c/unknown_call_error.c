// ERROR: 3:5: unsupported construct 'migrate_zero_copy_send()'
uint8_t channel = CH_MAIN;
if (migrate_zero_copy_send()) {
    channel = CH_MULTIFD;
}
