/** include/generated/utsrelease.h: the release string every report's "CPU:" line names. */
export const UTS_RELEASE = '6.18.0-kmem';
