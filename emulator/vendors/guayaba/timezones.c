/* timezones.c -- phone numbers and time zones: the E.164 check, the zone names Guayaba takes,
 * and the time zone it guesses from a phone number when none is given.
 *
 * The vendor documents "auto-detected from the phone number's area code" without a table, so
 * this is the emulator's own: North American area codes by zone, then country calling codes,
 * then "UTC". Fictional 555 numbers and unknown North American codes get America/New_York. */
#include "guayaba.h"

#include <ctype.h>
#include <string.h>

struct zone_codes {
    const char *zone;
    const char *codes; /* three-digit area codes, space-separated */
};

/* clang-format off */
static const struct zone_codes nanp_zones[] = {
    {"America/New_York",
     "201 202 203 207 212 215 216 239 240 267 301 302 305 315 321 332 347 352 386 401 404 407 "
     "410 412 413 434 443 470 475 478 484 508 513 516 518 540 551 561 571 585 586 603 607 609 "
     "610 614 616 617 646 678 703 704 706 716 717 718 727 732 754 757 770 772 774 781 786 802 "
     "803 804 813 828 843 845 848 856 857 860 862 863 864 904 908 910 914 917 919 929 937 941 "
     "954 973 978 980"},
    {"America/Chicago",
     "205 210 214 217 218 224 225 251 254 262 281 309 312 314 316 318 319 320 331 334 337 346 "
     "361 402 405 409 414 417 430 432 469 479 501 504 507 512 515 563 573 601 608 612 615 618 "
     "630 636 641 651 662 682 708 712 713 715 731 737 763 773 779 785 806 815 816 817 830 832 "
     "847 870 872 901 903 913 918 920 936 940 952 956 972 979 985"},
    {"America/Denver", "303 307 385 406 435 505 575 719 720 801 970"},
    {"America/Phoenix", "480 520 602 623 928"},
    {"America/Los_Angeles",
     "206 209 213 253 310 323 360 408 415 424 425 442 503 509 510 530 541 559 562 619 626 628 "
     "650 657 661 669 702 707 714 725 747 760 775 805 818 831 858 909 916 925 949 951 971"},
    {"America/Anchorage", "907"},
    {"Pacific/Honolulu", "808"},
    {"America/Toronto", "226 249 289 343 365 416 418 437 438 450 514 519 579 581 613 647 705 819 873 905"},
    {"America/Vancouver", "236 250 604 672 778"},
    {"America/Edmonton", "403 587 780 825"},
    {"America/Winnipeg", "204 431"},
    {"America/Regina", "306 639"},
    {"America/Halifax", "782 902"},
    {"America/St_Johns", "709"},
    {NULL, NULL},
};

static const struct {
    const char *prefix; /* the calling code with its '+' */
    const char *zone;
} country_zones[] = {
    /* longer codes first, so "+593" is tried before "+59" could match anything */
    {"+353", "Europe/Dublin"},      {"+351", "Europe/Lisbon"},        {"+502", "America/Guatemala"},
    {"+503", "America/El_Salvador"}, {"+504", "America/Tegucigalpa"}, {"+505", "America/Managua"},
    {"+506", "America/Costa_Rica"}, {"+507", "America/Panama"},       {"+591", "America/La_Paz"},
    {"+593", "America/Guayaquil"},  {"+595", "America/Asuncion"},     {"+598", "America/Montevideo"},
    {"+966", "Asia/Riyadh"},        {"+971", "Asia/Dubai"},           {"+20", "Africa/Cairo"},
    {"+27", "Africa/Johannesburg"}, {"+31", "Europe/Amsterdam"},      {"+33", "Europe/Paris"},
    {"+34", "Europe/Madrid"},       {"+39", "Europe/Rome"},           {"+44", "Europe/London"},
    {"+49", "Europe/Berlin"},       {"+51", "America/Lima"},          {"+52", "America/Mexico_City"},
    {"+54", "America/Argentina/Buenos_Aires"}, {"+55", "America/Sao_Paulo"},
    {"+56", "America/Santiago"},    {"+57", "America/Bogota"},        {"+58", "America/Caracas"},
    {"+61", "Australia/Sydney"},    {"+81", "Asia/Tokyo"},            {"+86", "Asia/Shanghai"},
    {"+91", "Asia/Kolkata"},        {"+7", "Europe/Moscow"},
    {NULL, NULL},
};
/* clang-format on */

const char *guayaba_timezone_for_phone(const char *e164)
{
    if (strncmp(e164, "+1", 2) == 0 && strlen(e164) >= 5) {
        char area[4] = {e164[2], e164[3], e164[4], '\0'};

        for (const struct zone_codes *z = nanp_zones; z->zone != NULL; z++) {
            const char *hit = strstr(z->codes, area);

            if (hit != NULL && (hit == z->codes || hit[-1] == ' ') &&
                (hit[3] == ' ' || hit[3] == '\0'))
                return z->zone;
        }
        return "America/New_York";
    }
    for (int i = 0; country_zones[i].prefix != NULL; i++)
        if (strncmp(e164, country_zones[i].prefix, strlen(country_zones[i].prefix)) == 0)
            return country_zones[i].zone;
    return "UTC";
}

int guayaba_phone_is_e164(const char *s)
{
    size_t n;

    if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return 0;
    n = strlen(s + 1);
    if (n < 8 || n > 15)
        return 0;
    for (size_t i = 1; i <= n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

int guayaba_timezone_valid(const char *tz)
{
    static const char *const areas[] = {"Africa", "America",  "Antarctica", "Arctic",
                                        "Asia",   "Atlantic", "Australia",  "Europe",
                                        "Indian", "Pacific",  "Etc",        NULL};
    const char *slash;

    if (tz == NULL)
        return 0;
    if (strcmp(tz, "UTC") == 0 || strcmp(tz, "GMT") == 0)
        return 1;
    slash = strchr(tz, '/');
    if (slash == NULL || slash[1] == '\0' || strlen(tz) > 64)
        return 0;
    for (int i = 0; areas[i] != NULL; i++) {
        if (strlen(areas[i]) == (size_t)(slash - tz) &&
            strncmp(tz, areas[i], (size_t)(slash - tz)) == 0) {
            for (const char *p = slash + 1; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_-+/", *p))
                    return 0;
            return slash[1] != '/' && tz[strlen(tz) - 1] != '/';
        }
    }
    return 0;
}
