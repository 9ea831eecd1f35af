/*
 * Unit test of how a client certificate's subject names an organisation
 * (tls_name_identity): exactly one CN, decoded to UTF-8 whatever its
 * string type, and refused when it holds a NUL, is not UTF-8, is empty
 * or is too long.  Names are built with raw string types, as a hostile CA
 * could encode them.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "ceptoard.h"
#include "check.h"

/* tls.c's reload reads the hub's state; this test never calls it. */
struct hub	*hub;

/* A subject with the CNs given as (type, bytes, length), NULL-ended. */
static X509_NAME *
name_with(int type1, const char *cn1, int len1, int type2, const char *cn2,
    int len2)
{
	X509_NAME	*n = X509_NAME_new();

	X509_NAME_add_entry_by_NID(n, NID_organizationName, MBSTRING_ASC,
	    (const unsigned char *)"nisc", -1, -1, 0);
	if (cn1 != NULL)
		X509_NAME_add_entry_by_NID(n, NID_commonName, type1,
		    (const unsigned char *)cn1, len1, -1, 0);
	if (cn2 != NULL)
		X509_NAME_add_entry_by_NID(n, NID_commonName, type2,
		    (const unsigned char *)cn2, len2, -1, 0);
	return n;
}

/* What tls_name_identity says of n, which it frees; the CN in cn. */
static const char *
identity(X509_NAME *n, char *cn, size_t len)
{
	const char	*why = tls_name_identity(n, cn, len);

	X509_NAME_free(n);
	return why;
}

int
main(void)
{
	char		 cn[256], small[5];
	const char	*why;

	/* The usual case, and the same text in other string types. */
	CHECK(identity(name_with(V_ASN1_UTF8STRING, "nisc", 4, 0, NULL, 0),
	    cn, sizeof(cn)) == NULL);
	CHECK_STR(cn, "nisc");
	CHECK(identity(name_with(V_ASN1_PRINTABLESTRING, "bank-a", 6, 0, NULL,
	    0), cn, sizeof(cn)) == NULL);
	CHECK_STR(cn, "bank-a");
	CHECK(identity(name_with(V_ASN1_BMPSTRING, "\0n\0i\0s\0c", 8, 0, NULL,
	    0), cn, sizeof(cn)) == NULL);
	CHECK_STR(cn, "nisc");

	/* The BMPString whose bytes are "nisc" is U+6E69 U+7363, not nisc. */
	CHECK(identity(name_with(V_ASN1_BMPSTRING, "nisc", 4, 0, NULL, 0),
	    cn, sizeof(cn)) == NULL);
	CHECK_STR(cn, "\xe6\xb9\xa9\xe7\x8d\xa3");

	/* Refusals, each with its reason. */
	why = identity(name_with(0, NULL, 0, 0, NULL, 0), cn, sizeof(cn));
	CHECK_CONTAINS(why, "no common name");
	CHECK_STR(cn, "");
	why = identity(name_with(V_ASN1_UTF8STRING, "nisc", 4,
	    V_ASN1_UTF8STRING, "bank-a", 6), cn, sizeof(cn));
	CHECK_CONTAINS(why, "more than one common name");
	CHECK_STR(cn, "");
	why = identity(name_with(V_ASN1_UTF8STRING, "nisc\0evil", 9, 0, NULL,
	    0), cn, sizeof(cn));
	CHECK_CONTAINS(why, "NUL");
	why = identity(name_with(V_ASN1_BMPSTRING, "\0n\0\0", 4, 0, NULL, 0),
	    cn, sizeof(cn));
	CHECK_CONTAINS(why, "NUL");
	why = identity(name_with(V_ASN1_UTF8STRING, "nis\xff", 4, 0, NULL, 0),
	    cn, sizeof(cn));
	CHECK(why != NULL);
	why = identity(name_with(V_ASN1_UTF8STRING, "\xc0\xae", 2, 0, NULL, 0),
	    cn, sizeof(cn));
	CHECK(why != NULL);
	why = identity(name_with(V_ASN1_UTF8STRING, "\xed\xa0\x80", 3, 0,
	    NULL, 0), cn, sizeof(cn));
	CHECK(why != NULL);
	why = identity(name_with(V_ASN1_UTF8STRING, "", 0, 0, NULL, 0), cn,
	    sizeof(cn));
	CHECK_CONTAINS(why, "empty");
	why = identity(name_with(V_ASN1_UTF8STRING, "bank-a", 6, 0, NULL, 0),
	    small, sizeof(small));
	CHECK_CONTAINS(why, "too long");
	CHECK_STR(small, "");
	return CHECK_DONE();
}
