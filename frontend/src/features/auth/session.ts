import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { api, UNAUTHORIZED_EVENT, unwrap } from "../../api/client";

export const sessionKey = ["session"] as const;

/** Whether the server wants a token and whether this browser has a session. */
export function useSession() {
  const client = useQueryClient();
  useEffect(() => {
    const onUnauthorized = () => void client.invalidateQueries({ queryKey: sessionKey });
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, [client]);
  return useQuery({
    queryKey: sessionKey,
    queryFn: () => unwrap(api.GET("/api/v1/auth/session")),
    staleTime: 60_000,
    retry: 1,
  });
}

export async function login(token: string) {
  return unwrap(api.POST("/api/v1/auth/login", { body: { token } }));
}

export async function logout() {
  await unwrap(api.POST("/api/v1/auth/logout"));
}
