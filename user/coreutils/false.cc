// false: exits with status 1, whatever its arguments.
int main() { return 1; }
