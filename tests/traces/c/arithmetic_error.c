// ERROR: 4:22: unsupported construct '+'
uint8_t channel = CH_MAIN;
int y = 0;
bool x = true; x = y + 1;
if (x) { channel = CH_MULTIFD; }
