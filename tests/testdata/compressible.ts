/** The text the echo app's `/compressed` sends: long enough for compression to matter. */
export const COMPRESSIBLE: string = "the same line, again and again\n".repeat(2000);
