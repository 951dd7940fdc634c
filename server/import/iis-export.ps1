# iis-export.ps1 - writes the IIS 6 SMTP settings of this Windows machine as the JSON that
# `relaydesk import iis FILE` (or the console's "Import from IIS SMTP...") reads.
#
# It reads through the IIS ADSI provider (IIS://localhost/SmtpSvc/N), which hands back the
# Connection and Relay lists already decoded (GrantByDefault, IPGrant/IPDeny as "address, mask",
# DomainGrant/DomainDeny), so domain entries travel too. It changes nothing on this machine.
#
# Usage, in an elevated PowerShell (IIS 6 Management Compatibility must be installed):
#   powershell -ExecutionPolicy Bypass -File iis-export.ps1 -Out C:\relaydesk-iis.json
# Copy the file to the Relaydesk machine, then: npx relaydesk import iis relaydesk-iis.json --dry-run
param([string]$Out = "relaydesk-iis-export.json")
$ErrorActionPreference = 'Stop'

# The properties Relaydesk maps (server/import/iis-mapping.ts); passwords are never read.
$names = @('ServerComment', 'ServerBindings', 'SecureBindings', 'FullyQualifiedDomainName', 'MaxConnections',
  'ConnectionTimeout', 'LogType', 'ServerAutoStart', 'AuthFlags', 'AccessSSLFlags', 'RelayForAuth', 'MaxMessageSize',
  'MaxSessionSize', 'MaxBatchedMessages', 'MaxRecipients', 'SendNdrTo', 'BadMailDirectory', 'DropDirectory',
  'PickupDirectory', 'SmartHost', 'SmartHostType', 'RemoteSmtpPort', 'RouteAction', 'RouteUserName',
  'SmtpRemoteProgressiveRetry', 'SmtpRemoteDelayExpireMinutes', 'SmtpRemoteNDRExpireMinutes',
  'SmtpLocalDelayExpireMinutes', 'SmtpLocalNDRExpireMinutes', 'MasqueradeDomain', 'HopCount',
  'MaxOutConnections', 'MaxOutConnectionsPerDomain', 'RemoteTimeout', 'EnableReverseDnsLookup')

function Get-Value($object, [string]$name) {
  try { return $object.Get($name) } catch { return $null }
}

# An IIsIPSecuritySetting (IPSecurity, RelayIpList) as plain lists; $null when the property is not set.
function Get-IpSecurity($object, [string]$name) {
  $setting = Get-Value $object $name
  if ($null -eq $setting) { return $null }
  return [ordered]@{
    grantByDefault = [bool]$setting.GrantByDefault
    ipGrant = @($setting.IPGrant | Where-Object { $_ })
    ipDeny = @($setting.IPDeny | Where-Object { $_ })
    domainGrant = @($setting.DomainGrant | Where-Object { $_ })
    domainDeny = @($setting.DomainDeny | Where-Object { $_ })
  }
}

$servers = @()
foreach ($server in ([ADSI]'IIS://localhost/SmtpSvc').psbase.Children) {
  if ($server.SchemaClassName -ne 'IIsSmtpServer') { continue }
  $properties = [ordered]@{}
  foreach ($name in $names) {
    $value = Get-Value $server $name
    if ($null -ne $value) { $properties[$name] = $value }
  }
  $domains = @()
  foreach ($domain in ([ADSI]("IIS://localhost/SmtpSvc/$($server.Name)/Domain")).psbase.Children) {
    $domains += [ordered]@{
      name = [string]$domain.Name
      routeAction = Get-Value $domain 'RouteAction'
      routeActionString = Get-Value $domain 'RouteActionString'
    }
  }
  $servers += [ordered]@{
    location = "/LM/SMTPSVC/$($server.Name)"
    properties = $properties
    connection = Get-IpSecurity $server 'IPSecurity'
    relay = Get-IpSecurity $server 'RelayIpList'
    domains = $domains
  }
}

$document = [ordered]@{ format = 'relaydesk-iis-export'; version = 1; machine = $env:COMPUTERNAME; servers = $servers }
$document | ConvertTo-Json -Depth 8 | Set-Content -Encoding UTF8 -Path $Out
Write-Host "Wrote $($servers.Count) SMTP virtual server(s) to $Out"
