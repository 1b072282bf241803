"""Sign-in with Kakao, Naver, Google and Apple (Authlib)."""
