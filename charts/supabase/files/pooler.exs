# Creates this platform's Supavisor tenant once, if it does not exist yet: one tenant for the
# application database, whose users are looked up through pgbouncer.get_auth (auth_query), so
# every database role can log in through the pooler with its own password. Read by
# `supavisor eval` at start; every value comes from the container's environment.
{:ok, _} = Application.ensure_all_started(:supavisor)

env = fn name -> System.fetch_env!(name) end
tenant_id = env.("POOLER_TENANT_ID")

params = %{
  "external_id" => tenant_id,
  "db_host" => env.("POSTGRES_HOST"),
  "db_port" => String.to_integer(env.("POSTGRES_PORT")),
  "db_database" => env.("POSTGRES_DB"),
  "require_user" => false,
  "auth_query" => "SELECT * FROM pgbouncer.get_auth($1)",
  "default_max_clients" => String.to_integer(env.("POOLER_MAX_CLIENT_CONN")),
  "default_pool_size" => String.to_integer(env.("POOLER_DEFAULT_POOL_SIZE")),
  "users" => [
    %{
      "db_user" => "pgbouncer",
      "db_password" => env.("PGBOUNCER_PASSWORD"),
      "mode_type" => env.("POOLER_POOL_MODE"),
      "pool_size" => String.to_integer(env.("POOLER_DEFAULT_POOL_SIZE")),
      "is_manager" => true
    }
  ]
}

case Supavisor.Tenants.get_tenant_by_external_id(tenant_id) do
  nil -> {:ok, _} = Supavisor.Tenants.create_tenant(params)
  _existing -> :ok
end
