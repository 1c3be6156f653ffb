/*
 * token.h - the bearer tokens of the control API (`run`) and of `serve`'s
 * read-only API: made from 256 random bits, handed to local commands in a
 * file only its owner can read, and checked in constant time.
 */
#ifndef CRISISRUN_TOKEN_H
#define CRISISRUN_TOKEN_H

#include "crisisrun/httpd.h"

#define TOKEN_HEX_LEN 64 /* 256 bits as hex digits */

/* Fills out (TOKEN_HEX_LEN + 1 bytes) with a new token.  0, or -1 after
 * reporting that no randomness was available (`what` names the token). */
int token_new(char *out, const char *what);

/* Writes token and a newline to path, mode 0600 even when the file
 * existed, never through a symbolic link.  0, or -1 after reporting. */
int token_write_file(const char *path, const char *token, const char *what);

/* Wipes a token from memory (TOKEN_HEX_LEN + 1 bytes) before it is freed. */
void token_forget(char *token);

/* 1 when req carries "Authorization: Bearer TOKEN" with this token. */
int token_bearer_ok(const struct httpd_request *req, const char *token);

#endif
