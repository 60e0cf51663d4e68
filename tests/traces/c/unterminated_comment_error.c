// ERROR: 3:5: expected '*/' to close this comment (unterminated comment)
uint8_t channel = CH_MAIN;
    /* reconnect main channel for postcopy recovery
if (mis->from_src_file) { channel = CH_MULTIFD; }
